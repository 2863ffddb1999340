namespace Keel.Sandbox;

/// <summary>How a <see cref="SandboxServer"/> is set up: ports, credentials, pacing and the data it serves.</summary>
public sealed class SandboxOptions
{
    /// <summary>Port of the Alpaca market data stream and REST API; 0 picks a free port.</summary>
    public int AlpacaPort { get; set; }

    /// <summary>Port of the OANDA REST API and pricing stream; 0 picks a free port.</summary>
    public int OandaPort { get; set; }

    /// <summary>Address to bind; loopback unless configured otherwise.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>Time compression of the replay: 60 sends an hour of data in a minute; <see cref="double.PositiveInfinity"/> = as fast as possible.</summary>
    public double Speed { get; set; } = 1;

    /// <summary>
    /// The replay waits for <see cref="SandboxServer.StepAsync"/> and publishes one event (a tick or a finished bar) per
    /// step, whatever <see cref="Speed"/> says: a test decides when the market moves, so runs on the sandbox are
    /// deterministic. The generator is not affected.
    /// </summary>
    public bool Lockstep { get; set; }

    /// <summary>Bar files replayed as ticks; both venues serve every series.</summary>
    public IList<SandboxSeries> Series { get; } = [];

    /// <summary>Random-walk ticks instead of (or besides) replayed files.</summary>
    public SandboxGenerator? Generator { get; set; }

    public string AlpacaKey { get; set; } = "sandbox-key";

    public string AlpacaSecret { get; set; } = "sandbox-secret";

    /// <summary>Starting cash of the simulated Alpaca trading account (USD).</summary>
    public decimal AlpacaCash { get; set; } = 100_000m;

    public string OandaToken { get; set; } = "sandbox-token";

    public string OandaAccount { get; set; } = "101-001-0000001-001";

    /// <summary>Interval of OANDA stream heartbeats (wall time).</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long an Alpaca stream connection may stay unauthenticated before <c>404 auth timeout</c>.</summary>
    public TimeSpan AuthTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>OANDA quotes (and Alpaca quotes): bid = p − h, ask = p + h, so the mid stays exactly p.</summary>
    public decimal HalfSpread { get; set; }

    /// <summary>Alpaca's cap on trade and quote symbols per connection on the <c>iex</c> feed (free plan: 30); <c>405 symbol limit exceeded</c> beyond it.</summary>
    public int AlpacaSymbolLimit { get; set; } = 30;

    /// <summary>Behave like a free Alpaca plan: authenticating on the <c>sip</c> stream answers <c>409 insufficient subscription</c>.</summary>
    public bool AlpacaFreePlan { get; set; }

    // ---- OANDA trading (the simulated v20 account) ----

    /// <summary>Instruments the OANDA account trades besides the replayed and generated ones; their prices come only from <c>POST /_sandbox/oanda/prices</c>.</summary>
    public IList<string> OandaInstruments { get; } = [];

    /// <summary>The OANDA account's opening balance (in <see cref="OandaCurrency"/>).</summary>
    public decimal OandaBalance { get; set; } = 100_000m;

    /// <summary>The OANDA account's home currency; the sandbox treats every instrument's quote currency as this one.</summary>
    public string OandaCurrency { get; set; } = "USD";

    /// <summary>OANDA margin rate (0.02 = 50:1): margin used = |units| × price × rate.</summary>
    public decimal OandaMarginRate { get; set; } = 0.02m;
}

/// <summary>
/// A bar file replayed by the sandbox. <paramref name="Symbol"/> is the name both venues use for it (AAPL-style or
/// EUR_USD-style); <paramref name="Timeframe"/> (e.g. 1m, 5m, M5, 1h, 1d) overrides the interval inferred from the data.
/// </summary>
public sealed record SandboxSeries(string Symbol, string Path, string? Timeframe = null);

/// <summary>
/// One event a lockstep replay published: on which venue, whether it was a tick (else a finished bar), its symbol, venue
/// time and price, and how many data messages went to that venue's clients for it (a trade and a quote are two).
/// </summary>
public sealed record SandboxStep(string Venue, bool IsTick, string Symbol, Keel.Domain.Timestamp Time, Keel.Domain.Price Price, long Messages);

/// <summary>Random-walk ticks for <paramref name="Symbols"/>, <paramref name="TicksPerSecond"/> in total, deterministic by <paramref name="Seed"/>; timestamps are the wall clock.</summary>
public sealed record SandboxGenerator(IReadOnlyList<string> Symbols, int TicksPerSecond, decimal StartPrice = 100m, int Seed = 42)
{
    /// <summary>
    /// Emit each tick at its own scheduled time by spinning between ticks (one core busy) instead of waking on a
    /// ~1 ms timer and sending a burst; for latency measurements.
    /// </summary>
    public bool Paced { get; init; }
}
