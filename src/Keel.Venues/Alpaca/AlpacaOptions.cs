namespace Keel.Venues.Alpaca;

/// <summary>
/// How to reach Alpaca's market data. Credentials come from configuration (<c>alpaca.key</c>/<c>alpaca.secret</c> in
/// keel.json) or <c>KEEL__ALPACA__KEY</c>/<c>KEEL__ALPACA__SECRET</c>; they are sent only in the auth message and
/// request headers, never logged and never part of an error message.
/// </summary>
public sealed record AlpacaOptions
{
    public static Uri DefaultStreamUrl { get; } = new("wss://stream.data.alpaca.markets/v2/iex");

    public static Uri DefaultRestUrl { get; } = new("https://data.alpaca.markets");

    public required string Key { get; init; }

    public required string Secret { get; init; }

    /// <summary>The market data WebSocket, feed included (<c>…/v2/iex</c>, <c>…/v2/sip</c>, <c>…/v2/test</c>).</summary>
    public Uri StreamUrl { get; init; } = DefaultStreamUrl;

    /// <summary>Market data REST base (historical bars).</summary>
    public Uri RestUrl { get; init; } = DefaultRestUrl;

    /// <summary>The <c>feed</c> query parameter for REST requests: <c>iex</c> on free plans, <c>sip</c> on paid ones.</summary>
    public string Feed { get; init; } = "iex";

    public bool Trades { get; init; } = true;

    public bool Quotes { get; init; }

    public bool Bars { get; init; }

    public override string ToString() => $"AlpacaOptions {{ StreamUrl = {StreamUrl}, RestUrl = {RestUrl}, Feed = {Feed}, Key = ***, Secret = *** }}";
}
