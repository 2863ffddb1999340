using Keel.Runtime;

namespace Keel.Server;

/// <summary>What a bearer token may do. Stored in configuration as <c>read</c> or <c>trade</c>; never renumber.</summary>
public enum TokenScope
{
    /// <summary>Reads runs, events, orders and metrics.</summary>
    Read = 1,

    /// <summary>Everything <see cref="Read"/> may, and changes state: starts, pauses, resumes and stops runs, submits and cancels orders.</summary>
    Trade = 2,
}

/// <summary>A bearer token the API accepts; <see cref="Name"/> is what logs show, never the token.</summary>
public sealed record ApiToken(string Name, string Token, TokenScope Scope);

/// <summary>A TradingView webhook: alerts posted to <c>/webhooks/tradingview/{Name}</c> become orders of one run.</summary>
public sealed record TradingViewHook
{
    public required string Name { get; init; }

    /// <summary>The shared secret TradingView puts in the alert body (<c>"secret"</c> or <c>"passphrase"</c>).</summary>
    public required string Secret { get; init; }

    /// <summary>The run (id or unique prefix) the orders go to, or "active" for the one run the server is running; it must be running in this server.</summary>
    public required string Run { get; init; }

    /// <summary>Alerts whose <c>time</c> is further than this from the server's clock are refused (replay window).</summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Only these source addresses may post; empty: any (TradingView's own are <see cref="TradingViewAddresses"/>).</summary>
    public IReadOnlyList<string> AllowFrom { get; init; } = [];

    /// <summary>The addresses TradingView sends webhooks from (its documentation; IPv4 only).</summary>
    public static IReadOnlyList<string> TradingViewAddresses { get; } = ["52.89.214.238", "34.212.75.30", "54.218.53.128", "52.32.178.7"];
}

/// <summary>How <c>keel serve</c> runs: where it listens, its store, its tokens, webhooks, and how it turns an API request into a run.</summary>
public sealed record ServerOptions
{
    /// <summary>Addresses to listen on; loopback only unless configured (<c>http://0.0.0.0:8080</c> opens it to the network).</summary>
    public string Urls { get; init; } = "http://127.0.0.1:8080";

    /// <summary>The store every run of this server is recorded in (and the recorded runs it shows).</summary>
    public required string Db { get; init; }

    /// <summary>Accepted bearer tokens; every API call needs one (read scope to read, trade scope to change anything).</summary>
    public IReadOnlyList<ApiToken> Tokens { get; init; } = [];

    public IReadOnlyList<TradingViewHook> Webhooks { get; init; } = [];

    /// <summary>
    /// Turns a run request (mode: backtest, paper or live; options named as the command line's, without dashes) into a
    /// validated specification recorded in <see cref="Db"/>. Throws <see cref="UsageException"/> naming the option
    /// that is wrong.
    /// </summary>
    public required Func<string, IReadOnlyList<KeyValuePair<string, string>>, RunSpec> ResolveRun { get; init; }

    /// <summary>What the runs started here use: strategies, live feeds and venues, logging.</summary>
    public RunServices Services { get; init; } = new();

    /// <summary>Events a WebSocket client may fall behind before it is disconnected (it resumes from the last sequence it saw).</summary>
    public int ClientBuffer { get; init; } = 4096;

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>The symbols a decision posted to <c>/api/decisions</c> may name (upper case); null: any well-formed symbol (as <c>keel decisions add --symbols</c>).</summary>
    public IReadOnlySet<string>? DecisionSymbols { get; init; }
}
