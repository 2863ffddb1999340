namespace Keel.Venues.Oanda;

/// <summary>
/// How to reach OANDA v20. Credentials come from configuration (<c>oanda.token</c>/<c>oanda.account</c>) or
/// <c>KEEL__OANDA__TOKEN</c>/<c>KEEL__OANDA__ACCOUNT</c>; the token goes only into the Authorization header and is
/// never logged or part of an error message.
/// </summary>
public sealed record OandaOptions
{
    public static Uri PracticeRestUrl { get; } = new("https://api-fxpractice.oanda.com");

    public static Uri PracticeStreamUrl { get; } = new("https://stream-fxpractice.oanda.com");

    public required string Token { get; init; }

    public required string Account { get; init; }

    /// <summary>REST base (candles): practice by default.</summary>
    public Uri RestUrl { get; init; } = PracticeRestUrl;

    /// <summary>Streaming base (pricing stream): practice by default.</summary>
    public Uri StreamUrl { get; init; } = PracticeStreamUrl;

    /// <summary>OANDA sends a heartbeat every 5 s; two missed ones make the stream stale.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(5);

    public override string ToString() => $"OandaOptions {{ RestUrl = {RestUrl}, StreamUrl = {StreamUrl}, Account = {Account}, Token = *** }}";
}
