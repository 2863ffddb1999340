using System.Text.Json;
using Keel.Domain;
using Keel.Domain.Orders;
using Keel.Engine.Kernel;
using Microsoft.AspNetCore.Http;

namespace Keel.Server;

/// <summary>Orders in and out of the API: request bodies checked field by field, results as text.</summary>
internal static class Orders
{
    /// <summary>The order the body asks for, or a sentence naming the field that is wrong.</summary>
    public static (OrderRequest Request, string? Problem) Parse(OrderRequestBody body)
    {
        if (string.IsNullOrWhiteSpace(body.Instrument))
        {
            return (default, "instrument is missing, e.g. \"instrument\": \"AAPL\"");
        }

        OrderSide? side = body.Side?.ToLowerInvariant() switch
        {
            "buy" or "long" => OrderSide.Buy,
            "sell" or "short" => OrderSide.Sell,
            _ => null,
        };
        if (side is null)
        {
            return (default, $"side was {Shown(body.Side)}; it must be buy or sell");
        }

        OrderType? type = (body.Type ?? "market").ToLowerInvariant() switch
        {
            "market" => OrderType.Market,
            "limit" => OrderType.Limit,
            "stop" => OrderType.Stop,
            "stop_limit" or "stop-limit" or "stoplimit" => OrderType.StopLimit,
            _ => null,
        };
        if (type is null)
        {
            return (default, $"type was {Shown(body.Type)}; it must be market, limit, stop or stop_limit");
        }

        if (body.Quantity is null || !Quantity.TryParse(body.Quantity, out var quantity) || quantity.Raw <= 0)
        {
            return (default, $"quantity was {Shown(body.Quantity)}; it must be a positive decimal number (as a string, e.g. \"10\")");
        }

        Price? limit = null, stop = null;
        if (body.LimitPrice is not null)
        {
            if (!Price.TryParse(body.LimitPrice, out var l) || l.Raw <= 0)
            {
                return (default, $"limitPrice was {Shown(body.LimitPrice)}; it must be a positive decimal number");
            }

            limit = l;
        }

        if (body.StopPrice is not null)
        {
            if (!Price.TryParse(body.StopPrice, out var s) || s.Raw <= 0)
            {
                return (default, $"stopPrice was {Shown(body.StopPrice)}; it must be a positive decimal number");
            }

            stop = s;
        }

        TimeInForce? tif = (body.TimeInForce ?? "gtc").ToLowerInvariant() switch
        {
            "day" => TimeInForce.Day,
            "gtc" => TimeInForce.Gtc,
            "ioc" => TimeInForce.Ioc,
            "fok" => TimeInForce.Fok,
            _ => null,
        };
        if (tif is null)
        {
            return (default, $"timeInForce was {Shown(body.TimeInForce)}; it must be day, gtc, ioc or fok");
        }

        if (body.Tag is { Length: > 64 })
        {
            return (default, $"tag has {body.Tag.Length} characters; at most 64");
        }

        var request = new OrderRequest(new InstrumentId(body.Instrument.Trim()), side.Value, type.Value, quantity, limit, stop, tif.Value, body.Tag);
        return request.Validate() is { } invalid ? (default, invalid) : (request, null);
    }

    public static OrderResultView View(ExternalOrderResult result) =>
        new(result.Id == default ? null : result.Id.ToString(), result.Status.ToText(), result.Reason);

    private static string Shown(string? value) => value is null ? "missing" : $"'{value}'";
}

/// <summary>Request bodies read as JSON, with errors that say where the body went wrong.</summary>
internal static class Body
{
    public const int MaxBytes = 64 * 1024;

    public static async Task<(JsonDocument? Document, IResult? Error)> ReadAsync(HttpContext context)
    {
        if (context.Request.ContentLength > MaxBytes)
        {
            return (null, Problems.Of(StatusCodes.Status413PayloadTooLarge, "Payload too large", $"the body has {context.Request.ContentLength} bytes; at most {MaxBytes}"));
        }

        try
        {
            var doc = await JsonDocument.ParseAsync(context.Request.Body, default, context.RequestAborted).ConfigureAwait(false);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                doc.Dispose();
                return (null, Problems.BadRequest("the body must be a JSON object"));
            }

            if (!IsValidText(doc.RootElement, 0))
            {
                doc.Dispose();
                return (null, Problems.BadRequest("the body has a string that is not valid Unicode (an unpaired surrogate such as \\ud800)"));
            }

            return (doc, null);
        }
        catch (JsonException ex)
        {
            return (null, Problems.BadRequest($"the body is not JSON: {JsonError(ex)}"));
        }
    }

    /// <summary>Whether every string and property name decodes (JSON may escape a lone surrogate, which .NET cannot read as a string).</summary>
    public static bool IsValidText(JsonElement element, int depth)
    {
        try
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.String:
                    _ = element.GetString();
                    return true;
                case JsonValueKind.Object:
                    foreach (var p in element.EnumerateObject())
                    {
                        _ = p.Name;
                        if (!IsValidText(p.Value, depth + 1))
                        {
                            return false;
                        }
                    }

                    return true;
                case JsonValueKind.Array:
                    foreach (var item in element.EnumerateArray())
                    {
                        if (!IsValidText(item, depth + 1))
                        {
                            return false;
                        }
                    }

                    return true;
                default:
                    return true;
            }
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>Where the JSON went wrong, without echoing the body (it may hold a secret).</summary>
    public static string JsonError(JsonException ex) =>
        ex.Path is { Length: > 1 } path
            ? $"field {path.TrimStart('$', '.')} (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine}) has the wrong type or form"
            : $"it breaks off or is malformed at line {ex.LineNumber + 1}, byte {ex.BytePositionInLine}";

    public static string Describe(JsonElement e) => e.ValueKind == JsonValueKind.String ? e.GetString()! : e.ValueKind.ToString().ToLowerInvariant();
}

/// <summary>An event as JSON, the same in the REST pages and on the WebSockets.</summary>
internal static class EventJson
{
    public static void Write(Utf8JsonWriter w, string? runId, long sequence, string type, Timestamp time, string payload)
    {
        w.WriteStartObject();
        if (runId is not null)
        {
            w.WriteString("run", runId);
        }

        w.WriteNumber("sequence", sequence);
        w.WriteString("type", type);
        w.WriteString("time", time.ToString());
        w.WritePropertyName("payload");
        w.WriteRawValue(payload, skipInputValidation: true);
        w.WriteEndObject();
    }
}
