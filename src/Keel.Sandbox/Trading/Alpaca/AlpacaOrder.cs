using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Keel.Domain;
using Keel.Domain.Orders;
using Keel.Sandbox.Wire;

namespace Keel.Sandbox.Trading.Alpaca;

/// <summary>
/// One order of the simulated Alpaca account as Alpaca shows it (the Order object of the Trading API v2). Mutated
/// only under the account's lock; every REST answer and stream event is a serialised copy taken under that lock.
/// </summary>
internal sealed class AlpacaOrder
{
    public required string Id { get; init; }

    public required string ClientOrderId { get; init; }

    public required string Symbol { get; init; }

    public required OrderSide Side { get; init; }

    public required OrderType Type { get; init; }

    public required TimeInForce TimeInForce { get; init; }

    public required Quantity Qty { get; init; }

    public Price? LimitPrice { get; init; }

    public Price? StopPrice { get; init; }

    /// <summary>As Alpaca echoes it: <c>""</c> when the request named none, else simple, bracket, oco or oto.</summary>
    public required string OrderClass { get; init; }

    public bool ExtendedHours { get; init; }

    /// <summary>Submission number in the account (1, 2, …): the order of listings.</summary>
    public long Seq { get; init; }

    public string Status { get; set; } = "new";

    public Quantity FilledQty { get; set; }

    /// <summary>Σ price × quantity over the fills, exact.</summary>
    public Money FilledValue { get; set; }

    public long CreatedAt { get; init; }

    public long UpdatedAt { get; set; }

    public long SubmittedAt { get; init; }

    public long? FilledAt { get; set; }

    public long? ExpiredAt { get; set; }

    public long? CanceledAt { get; set; }

    public long? FailedAt { get; set; }

    public long? ReplacedAt { get; set; }

    public string? ReplacedBy { get; set; }

    public string? Replaces { get; init; }

    /// <summary>The entry of a bracket/OTO leg, or the take-profit of an OCO pair's stop-loss.</summary>
    public AlpacaOrder? Parent { get; set; }

    /// <summary>Bracket: take-profit then stop-loss; OTO: the one exit; OCO (on the take-profit): the stop-loss.</summary>
    public List<AlpacaOrder>? Legs { get; set; }

    /// <summary>Not yet in a final state (filled, canceled, expired, replaced, rejected).</summary>
    public bool IsOpen => Status is not ("filled" or "canceled" or "expired" or "replaced" or "rejected");

    public Quantity Leaves => Qty - FilledQty;

    public Price? AveragePrice => FilledQty.IsZero ? null : FilledValue.DivideToPrice(FilledQty);

    /// <summary>Writes the Order object; legs inline only when <paramref name="nested"/> (as <c>nested=true</c>), else null.</summary>
    public void Write(Utf8JsonWriter w, bool nested)
    {
        w.WriteStartObject();
        w.WriteString("id", Id);
        w.WriteString("client_order_id", ClientOrderId);
        Time(w, "created_at", CreatedAt);
        Time(w, "updated_at", UpdatedAt);
        Time(w, "submitted_at", SubmittedAt);
        Time(w, "filled_at", FilledAt);
        Time(w, "expired_at", ExpiredAt);
        w.WriteNull("cancel_requested_at");
        Time(w, "canceled_at", CanceledAt);
        Time(w, "failed_at", FailedAt);
        Time(w, "replaced_at", ReplacedAt);
        Text(w, "replaced_by", ReplacedBy);
        Text(w, "replaces", Replaces);
        w.WriteString("asset_id", AssetId(Symbol));
        w.WriteString("symbol", Symbol);
        w.WriteString("asset_class", "us_equity");
        w.WriteNull("notional");
        w.WriteString("qty", Qty.ToString());
        w.WriteString("filled_qty", FilledQty.ToString());
        Text(w, "filled_avg_price", AveragePrice?.ToString());
        w.WriteString("order_class", OrderClass);
        w.WriteString("order_type", Type.ToText());
        w.WriteString("type", Type.ToText());
        w.WriteString("side", Side.ToText());
        w.WriteString("time_in_force", TimeInForce.ToText());
        Text(w, "limit_price", LimitPrice?.ToString());
        Text(w, "stop_price", StopPrice?.ToString());
        w.WriteString("status", Status);
        w.WriteBoolean("extended_hours", ExtendedHours);
        if (nested && Legs is { Count: > 0 } legs)
        {
            w.WriteStartArray("legs");
            foreach (var leg in legs)
            {
                leg.Write(w, nested: false);
            }

            w.WriteEndArray();
        }
        else
        {
            w.WriteNull("legs");
        }

        w.WriteNull("trail_percent");
        w.WriteNull("trail_price");
        w.WriteNull("hwm");
        w.WriteString("subtag", (string?)null);
        w.WriteString("source", (string?)null);
        w.WriteEndObject();
    }

    public byte[] ToJson(bool nested) => AlpacaWire.Write(w => Write(w, nested));

    /// <summary>A stable UUID per symbol, so the same symbol always has the same <c>asset_id</c>.</summary>
    public static string AssetId(string symbol)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes("keel-sandbox-asset:" + symbol), hash);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash[..16], bigEndian: true).ToString();
    }

    internal static void Time(Utf8JsonWriter w, string name, long? nanos)
    {
        if (nanos is long n)
        {
            w.WriteString(name, WireText.Time9(n));
        }
        else
        {
            w.WriteNull(name);
        }
    }

    internal static void Text(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null)
        {
            w.WriteNull(name);
        }
        else
        {
            w.WriteString(name, value);
        }
    }
}
