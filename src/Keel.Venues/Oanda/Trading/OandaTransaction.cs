using System.Globalization;
using System.Text.Json;
using Keel.Domain;

namespace Keel.Venues.Oanda.Trading;

/// <summary>What an OANDA transaction means to order tracking.</summary>
public enum OandaTransactionKind
{
    /// <summary>An order was created (<c>MARKET_ORDER</c>, <c>LIMIT_ORDER</c>, <c>TAKE_PROFIT_ORDER</c>…).</summary>
    OrderCreate = 1,

    /// <summary>An order request was refused (<c>…_ORDER_REJECT</c>).</summary>
    OrderReject = 2,

    OrderFill = 3,

    OrderCancel = 4,

    OrderCancelReject = 5,

    /// <summary>A transaction that changes no order (funding, financing, configuration, trade client extensions…).</summary>
    Other = 6,
}

/// <summary>
/// One OANDA v20 transaction, the fields order tracking reads (OANDA sends prices and units as strings; they are
/// parsed exactly). <see cref="Id"/> is the account's total order: the watermark, and the key that makes a repeated
/// transaction a no-op.
/// </summary>
public sealed record OandaTransaction(
    long Id,
    string Type,
    OandaTransactionKind Kind,
    Timestamp Time,
    string? OrderId,
    string? ClientOrderId,
    string? Instrument,
    Quantity? Units,
    Price? Price,
    Money Commission,
    string? Reason,
    string? RejectReason,
    string? ReplacesOrderId,
    string? ReplacedByOrderId,
    string? TradeId,
    IReadOnlyList<string> OnFillClientIds)
{
    private static readonly HashSet<string> CreateTypes = new(StringComparer.Ordinal)
    {
        "MARKET_ORDER", "LIMIT_ORDER", "STOP_ORDER", "MARKET_IF_TOUCHED_ORDER", "FIXED_PRICE_ORDER",
        "TAKE_PROFIT_ORDER", "STOP_LOSS_ORDER", "TRAILING_STOP_LOSS_ORDER", "GUARANTEED_STOP_LOSS_ORDER",
    };

    private static readonly HashSet<string> OtherTypes = new(StringComparer.Ordinal)
    {
        "CREATE", "CLOSE", "REOPEN", "CLIENT_CONFIGURE", "CLIENT_CONFIGURE_REJECT", "TRANSFER_FUNDS", "TRANSFER_FUNDS_REJECT",
        "ORDER_CLIENT_EXTENSIONS_MODIFY", "ORDER_CLIENT_EXTENSIONS_MODIFY_REJECT", "TRADE_CLIENT_EXTENSIONS_MODIFY",
        "TRADE_CLIENT_EXTENSIONS_MODIFY_REJECT", "MARGIN_CALL_ENTER", "MARGIN_CALL_EXTEND", "MARGIN_CALL_EXIT",
        "DELAYED_TRADE_CLOSURE", "DAILY_FINANCING", "DIVIDEND_ADJUSTMENT", "RESET_RESETTABLE_PL",
    };

    /// <summary>The signed units of a create, reject or fill: positive buys, negative sells.</summary>
    public bool IsBuy => Units is { } u && u.IsPositive;

    /// <summary>
    /// Reads one transaction. False, with <paramref name="problem"/> saying what was wrong, when a field order tracking
    /// needs is missing or malformed, or the type is one this adapter does not know (<paramref name="unknownType"/>).
    /// </summary>
    public static bool TryParse(JsonElement e, out OandaTransaction? transaction, out string? problem, out bool unknownType)
    {
        transaction = null;
        unknownType = false;
        problem = null;
        if (e.ValueKind != JsonValueKind.Object)
        {
            problem = $"a transaction must be a JSON object; got {e.ValueKind}";
            return false;
        }

        if (Str(e, "type") is not { } type)
        {
            problem = "the transaction has no 'type'";
            return false;
        }

        if (!TryId(Str(e, "id"), out long id))
        {
            problem = $"the {type} transaction has no numeric 'id' (got {Raw(e, "id")})";
            return false;
        }

        OandaTransactionKind kind = type switch
        {
            "ORDER_FILL" => OandaTransactionKind.OrderFill,
            "ORDER_CANCEL" => OandaTransactionKind.OrderCancel,
            "ORDER_CANCEL_REJECT" => OandaTransactionKind.OrderCancelReject,
            _ when CreateTypes.Contains(type) => OandaTransactionKind.OrderCreate,
            _ when type.EndsWith("_ORDER_REJECT", StringComparison.Ordinal) && CreateTypes.Contains(type[..^"_REJECT".Length]) => OandaTransactionKind.OrderReject,
            _ when OtherTypes.Contains(type) => OandaTransactionKind.Other,
            _ => 0,
        };
        if (kind == 0)
        {
            unknownType = true;
            problem = $"transaction {id} has a type this adapter does not know: {type}";
            transaction = new OandaTransaction(id, type, OandaTransactionKind.Other, default, null, null, null, null, null, Money.Zero, null, null, null, null, null, []);
            return false;
        }

        if (!(Str(e, "time") is { } timeText && OandaWire.TryTime(timeText, out var time)))
        {
            problem = $"transaction {id} ({type}) has no valid 'time' (got {Raw(e, "time")})";
            return false;
        }

        string? clientId = Str(e, "clientOrderID") ?? (e.TryGetProperty("clientExtensions", out var ext) && ext.ValueKind == JsonValueKind.Object ? Str(ext, "id") : null);
        Quantity? units = null;
        if (Str(e, "units") is { } unitsText)
        {
            if (!Quantity.TryParse(unitsText.AsSpan(), out var u))
            {
                problem = $"transaction {id} ({type}) has units '{unitsText}', not a number";
                return false;
            }

            units = u;
        }

        Price? price = null;
        string? priceText = kind == OandaTransactionKind.OrderFill ? Str(e, "fullVWAP") ?? Str(e, "price") : Str(e, "price");
        if (priceText is not null)
        {
            if (!Keel.Domain.Price.TryParse(priceText.AsSpan(), out var p))
            {
                problem = $"transaction {id} ({type}) has price '{priceText}', not a number";
                return false;
            }

            price = p;
        }

        var commission = Money.Zero;
        if (Str(e, "commission") is { } commissionText && !Money.TryParse(commissionText, out commission))
        {
            problem = $"transaction {id} ({type}) has commission '{commissionText}', not a number";
            return false;
        }

        var onFill = new List<string>(0);
        foreach (var name in (ReadOnlySpan<string>)["takeProfitOnFill", "stopLossOnFill", "trailingStopLossOnFill", "guaranteedStopLossOnFill"])
        {
            if (e.TryGetProperty(name, out var spec) && spec.ValueKind == JsonValueKind.Object
                && spec.TryGetProperty("clientExtensions", out var specExt) && specExt.ValueKind == JsonValueKind.Object && Str(specExt, "id") is { } childId)
            {
                onFill.Add(childId);
            }
        }

        transaction = new OandaTransaction(
            id, type, kind, time, kind == OandaTransactionKind.OrderCreate ? id.ToString(CultureInfo.InvariantCulture) : Str(e, "orderID"), clientId, Str(e, "instrument"), units, price,
            commission, Str(e, "reason"), Str(e, "rejectReason"), Str(e, "replacesOrderID"), Str(e, "replacedByOrderID"), Str(e, "tradeID"), onFill);

        problem = kind switch
        {
            OandaTransactionKind.OrderFill when transaction.OrderId is null || transaction.Instrument is null || units is null || price is null =>
                $"ORDER_FILL {id} lacks orderID, instrument, units or price",
            OandaTransactionKind.OrderCancel when transaction.OrderId is null => $"ORDER_CANCEL {id} lacks orderID",
            OandaTransactionKind.OrderReject when transaction.RejectReason is null => $"{type} {id} lacks rejectReason",
            _ => null,
        };
        if (problem is not null)
        {
            transaction = null;
            return false;
        }

        return true;
    }

    internal static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    internal static bool TryId(string? text, out long id)
    {
        id = 0;
        return text is not null && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out id) && id >= 0;
    }

    private static string Raw(JsonElement e, string name) => e.TryGetProperty(name, out var v) ? v.GetRawText() : "nothing";
}
