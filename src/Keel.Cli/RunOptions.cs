using System.CommandLine;
using System.Globalization;
using Keel.Domain;
using Keel.Engine.Risk;

namespace Keel.Cli;

/// <summary>
/// The options shared by <c>backtest</c> and <c>paper</c>. Each value comes from, in order of precedence: the command
/// line, the environment (<c>KEEL__BACKTEST__CASH=50000</c>), the configuration file (<c>--config</c>, else
/// <c>./keel.json</c>: <c>{"backtest": {"cash": 50000}}</c>), then the built-in default.
/// </summary>
internal sealed class RunOptions
{
    public RunOptions(bool paper, IReadOnlyList<Keel.Engine.Strategies.StrategyDescriptor>? catalog = null, bool live = false)
    {
        Paper = paper && !live;
        Live = live;
        Catalog = catalog ?? Keel.Strategies.StrategyCatalog.All;
        Data = new Option<string>(paper ? "--replay" : "--data")
        {
            Description = paper
                ? "CSV file(s) to replay as a live feed, comma-separated (generic, backtrader or Yahoo format), or db:SYMBOL:TIMEFRAME for candles in the store"
                : "CSV file(s) of bars, comma-separated; several files are merged in time order (generic datetime,open,high,low,close,volume; backtrader; Yahoo); db:SYMBOL:TIMEFRAME reads candles from the store (see 'keel data import')",
            HelpName = "FILE[,FILE…]",
        };
        if (!live)
        {
            Add(Data);
        }

        Add(Strategy);
        Add(Params);
        Add(Stake);
        Add(Size);
        Add(Cash);
        if (!live)
        {
            // How the simulated exchange fills, and which part of a file is read: a live venue fills by itself.
            Add(Commission);
            Add(CommissionPerShare);
            Add(CommissionMinimum);
            Add(CommissionPerOrder);
            Add(Slippage);
            Add(FillAt);
            Add(BarTicks);
            Add(Strict);
            Add(VolumeParticipation);
            Add(From);
            Add(To);
            Add(Out);
            Add(Symbol);
            Add(Benchmark);
        }

        Add(AssetClass);
        Add(TickSize);
        Add(LotSize);
        Add(Leverage);
        Add(MaxPosition);
        Add(MaxOrderNotional);
        Add(MaxOpenOrders);
        Add(MaxDailyLoss);
        Add(MaxDrawdown);
        Add(RiskWarning);
        Add(MaxOrdersPerMinute);
        Add(MaxExposure);
        Add(MaxTotalExposure);
        Add(Pdt);
        Add(Brokerage);
        Add(PeriodsPerYear);
        Add(Db);
        Add(SnapshotEvery);
        Add(SnapshotSeconds);
        Add(Config);
        Add(Quiet);
        if (Paper)
        {
            Add(Speed);
        }

        if (paper || live)
        {
            Venue = live
                ? new("--venue") { Description = "the venue to trade on: alpaca (US stocks) or oanda (forex); its paper/practice endpoint unless --real-money. Required.", HelpName = "alpaca|oanda" }
                : new("--venue") { Description = "paper-trade on a live feed instead of a file: alpaca or oanda (with --symbols); candles built from the stream drive the strategy and the simulated exchange; Ctrl+C ends the run normally", HelpName = "alpaca|oanda" };
            Add(Venue);
            Add(VenueSymbols);
            Add(Url);
            Add(Timeframe);
        }

        if (live)
        {
            Add(Adopt);
            Add(CancelOnStop);
            Add(ReconcileSeconds);
            Add(RealMoney);
        }
    }

    public bool Paper { get; }

    /// <summary>The options of <c>keel live</c>.</summary>
    public bool Live { get; }

    public Option<bool> Adopt { get; } = new("--adopt") { Description = "when the venue differs from the run in a way Keel cannot explain (a position closed by hand, an order Keel does not know), adopt the venue's state and journal it instead of stopping with a report" };

    public Option<bool> CancelOnStop { get; } = new("--cancel-on-stop") { Description = "cancel the run's working orders when it stops (Ctrl+C, SIGTERM); by default they stay at the venue and a resume picks them up" };

    public Option<string> ReconcileSeconds { get; } = new("--reconcile-seconds") { Description = "seconds between reconciliations with the venue while trading [default: 30]", HelpName = "S" };

    public Option<bool> RealMoney { get; } = new("--real-money") { Description = "trade on the venue's real-money endpoints; without it Keel uses paper (Alpaca) or practice (OANDA) accounts and refuses a real-money address" };

    /// <summary>The strategies a run may name.</summary>
    public IReadOnlyList<Keel.Engine.Strategies.StrategyDescriptor> Catalog { get; }

    public List<Option> All { get; } = [];

    public Option<string> Data { get; }

    public Option<string> Strategy { get; } = new("--strategy") { Description = "strategy to run (see 'keel strategies')", HelpName = "NAME" };

    public Option<string[]> Params { get; } = new("--param") { Description = "strategy parameter, repeatable: --param fast=10 --param slow=30", HelpName = "NAME=VALUE" };

    public Option<string> Stake { get; } = new("--stake") { Description = "order size for strategy signals, in shares/units [default: 1]", HelpName = "QTY" };

    public Option<string> Benchmark { get; } = new("--benchmark") { Description = "compare the run with buying and holding this bar file (same formats as --data) instead of the run's own first instrument: report, alpha, beta, correlation", HelpName = "FILE" };

    public Option<string> Size { get; } = new("--size") { Description = "how opening signals and bracket entries are sized: stake (--stake shares), equity:P% of equity, cash:AMOUNT per order, or risk:P% of equity between the entry and the strategy's stop; rounded down to whole lots, within buying power [default: stake]", HelpName = "MODE" };

    public Option<string> Cash { get; } = new("--cash") { Description = "starting cash [default: 100000]", HelpName = "AMOUNT" };

    public Option<string> Commission { get; } = new("--commission") { Description = "commission as a fraction of traded value, per side (0.001 = 0.1%) [default: 0]", HelpName = "FRACTION" };

    public Option<string> CommissionPerShare { get; } = new("--commission-per-share") { Description = "commission per share/unit, added to the others [default: 0]", HelpName = "AMOUNT" };

    public Option<string> CommissionMinimum { get; } = new("--commission-min") { Description = "minimum per-share commission per fill [default: 0]", HelpName = "AMOUNT" };

    public Option<string> CommissionPerOrder { get; } = new("--commission-per-order") { Description = "flat commission per order, charged on its first fill [default: 0]", HelpName = "AMOUNT" };

    public Option<string> Slippage { get; } = new("--slippage") { Description = "slippage of market and stop fills as a fraction of price, against you, within the bar's range (0.0005 = 5 bps) [default: 0]", HelpName = "FRACTION" };

    public Option<bool> BarTicks { get; } = new("--bar-ticks") { Description = "backtest: replay each bar as four trade ticks (open, the nearer extreme, the other extreme, close, as the sandbox's feeds do) before the bar, so a strategy that trades on ticks (ladder) runs as it would live and orders fill on those ticks" };

    public Option<bool> Strict { get; } = new("--strict") { Description = "refuse a CSV file with Yahoo's rows without prices (DATE,null,null,…, its missing days) instead of skipping them with a warning" };

    public Option<string> FillAt { get; } = new("--fill-at") { Description = "when market orders fill: 'open' = next bar's open (no look-ahead), 'close' = the signal bar's close (on ticks: the price of the tick the order was placed on) [default: open]", HelpName = "open|close" };

    public Option<string> VolumeParticipation { get; } = new("--volume-participation") { Description = "fill at most this fraction of each bar's volume; the rest waits (partial fills) [default: off]", HelpName = "FRACTION" };

    public Option<string> From { get; } = new("--from") { Description = "first bar time to use (YYYY-MM-DD or ISO 8601, UTC)", HelpName = "TIME" };

    public Option<string> To { get; } = new("--to") { Description = "last bar time to use; a date includes that whole day", HelpName = "TIME" };

    public Option<string> Out { get; } = new("--out") { Description = "folder for metrics.json, orders.csv, fills.csv, trades.csv, equity.csv and report.html (written only when the run completes)", HelpName = "DIR" };

    public Option<string> Symbol { get; } = new("--symbol") { Description = "symbol(s) for the data file(s), comma-separated, in the same order [default: from the file names]", HelpName = "SYMBOL[,…]" };

    public Option<string> AssetClass { get; } = new("--asset-class") { Description = "equity, forex or crypto: sets default tick and lot sizes [default: equity]", HelpName = "CLASS" };

    public Option<string> TickSize { get; } = new("--tick-size") { Description = "price increment [default: 0.01 equity, 0.00001 forex (0.001 JPY), 0.01 crypto]", HelpName = "PRICE" };

    public Option<string> LotSize { get; } = new("--lot-size") { Description = "quantity increment [default: 1; crypto 0.00000001]", HelpName = "QTY" };

    public Option<string> Leverage { get; } = new("--leverage") { Description = "buying power = equity × leverage − gross exposure [default: 1]", HelpName = "N" };

    public Option<string> MaxPosition { get; } = new("--max-position") { Description = "risk: largest absolute position per instrument, in shares/units", HelpName = "QTY" };

    public Option<string> MaxOrderNotional { get; } = new("--max-order-notional") { Description = "risk: largest value of a single opening order", HelpName = "AMOUNT" };

    public Option<string> MaxOpenOrders { get; } = new("--max-open-orders") { Description = "risk: most orders working at once", HelpName = "N" };

    public Option<string> MaxDailyLoss { get; } = new("--max-daily-loss") { Description = "risk: largest loss since the start of the UTC day, an amount or a % of day-start equity; halts opening orders for the rest of the day", HelpName = "AMOUNT|PCT%" };

    public Option<string> MaxDrawdown { get; } = new("--max-drawdown") { Description = "risk: largest fall from the equity peak, an amount or a % of the peak; halts opening orders for the rest of the run", HelpName = "AMOUNT|PCT%" };

    public Option<string> RiskWarning { get; } = new("--risk-warning") { Description = "risk: fraction of the daily loss or drawdown limit at which only reducing orders pass", HelpName = "FRACTION" };

    public Option<string> MaxOrdersPerMinute { get; } = new("--max-orders-per-minute") { Description = "risk: most opening orders per rolling minute of event time", HelpName = "N" };

    public Option<string[]> MaxExposure { get; } = new("--max-exposure") { Description = "risk: largest notional of a symbol's position, repeatable: --max-exposure AAPL=50000", HelpName = "SYMBOL=AMOUNT" };

    public Option<string> MaxTotalExposure { get; } = new("--max-total-exposure") { Description = "risk: largest gross notional over all positions", HelpName = "AMOUNT" };

    public Option<bool> Pdt { get; } = new("--pdt") { Description = "risk: the local pattern-day-trader rule: below 25,000 equity, no opening orders after 3 day trades in 5 trading days" };

    public Option<string> Brokerage { get; } = new("--brokerage") { Description = "validate orders as this venue would before they are sent, rejecting with its message: none, alpaca or oanda [default: none; with --venue: that venue]", HelpName = "none|alpaca|oanda" };

    public Option<string> PeriodsPerYear { get; } = new("--periods-per-year") { Description = "annualisation for Sharpe/Sortino [default: 252 for daily returns, 52 weekly, 12 monthly]", HelpName = "N" };

    public Option<string> Config { get; } = CliConfig.ConfigOption();

    public Option<string> Db { get; } = CliConfig.DbOption();

    public Option<string> SnapshotEvery { get; } = new("--snapshot-every") { Description = "store a resumable snapshot every N kernel events [default: 1000000; storage:snapshotEvery]", HelpName = "N" };

    public Option<string> SnapshotSeconds { get; } = new("--snapshot-seconds") { Description = "…and at least every S seconds of wall-clock time [default: 10; storage:snapshotSeconds]", HelpName = "S" };

    public Option<bool> Quiet { get; } = new("--quiet", "-q") { Description = "print only the summary (no progress bar)" };

    public Option<string> Speed { get; } = new("--speed") { Description = "replay speed: N × wall-clock time between bars, or 'max' [default: 60]", HelpName = "N|max" };

    public Option<string> Venue { get; } = new("--venue");

    public Option<string> VenueSymbols { get; } = new("--symbols") { Description = "with --venue: symbols to stream, comma-separated (AAPL,MSFT or EUR_USD)", HelpName = "SYM[,SYM…]" };

    public Option<string> Url { get; } = new("--url") { Description = "with --venue: connect here instead of the real venue, e.g. the sandbox (ws://127.0.0.1:P for Alpaca, http://127.0.0.1:Q for OANDA)", HelpName = "URL" };

    public Option<string> Timeframe { get; } = new("--timeframe") { Description = "with --venue: candle timeframe the strategy sees: 5s … 1d or S5 … D1 [default: 1m]", HelpName = "TF" };

    /// <summary>
    /// The keys a <c>backtest</c> or <c>paper</c> section may hold: every option read through configuration (both
    /// commands', as a paper run falls back to the backtest section), <c>data</c> and <c>params</c>.
    /// </summary>
    public static string[] ConfigKeys { get; } =
    [
        .. new RunOptions(paper: true).All.Concat(new RunOptions(paper: false).All).Concat(new RunOptions(paper: false, live: true).All)
            .Where(o => o.Name is not ("--param" or "--config" or "--db" or "--quiet" or "--snapshot-every" or "--snapshot-seconds"))
            .Select(o => Key(o.Name)).Append("data").Append("params").Distinct(StringComparer.Ordinal),
    ];

    private static string Key(string optionName) => optionName.TrimStart('-').Replace("-", string.Empty, StringComparison.Ordinal);

    private void Add(Option option) => All.Add(option);

    /// <summary>Resolves every option against the command line, environment and configuration file.</summary>
    public RunSpec Resolve(ParseResult parse)
    {
        var config = CliConfig.Load(parse.GetValue(Config));
        var sections = Paper ? new[] { config.GetSection("paper"), config.GetSection("backtest") }
            : Live ? [config.GetSection("live"), config.GetSection("backtest")]
            : [config.GetSection("backtest")];
        string? Get(Option<string> option)
        {
            var v = parse.GetValue(option);
            if (v is not null)
            {
                return v;
            }

            var key = Key(option.Name);
            foreach (var s in sections)
            {
                var c = s[key];
                if (c is not null)
                {
                    return c;
                }
            }

            return null;
        }

        // Where Get found an option's value, for messages: the option itself, keel.json: backtest.cash or KEEL__BACKTEST__CASH.
        string N(Option<string> option)
        {
            if (parse.GetValue(option) is not null)
            {
                return option.Name;
            }

            var key = Key(option.Name);
            foreach (var s in sections)
            {
                if (s[key] is not null)
                {
                    return CliConfig.Name(config, $"{s.Path}:{key}", option.Name);
                }
            }

            return option.Name;
        }

        string Storage(Option<string> option, string key) =>
            parse.GetValue(option) is not null ? option.Name : CliConfig.Name(config, $"storage:{key}", option.Name);

        // A live paper run streams from a venue; its sources are live:VENUE:SYMBOL.
        string? venue = (Paper || Live) && Get(Venue) is string vt ? VenueConfig.Normalize(vt, N(Venue)) : null;
        if (Live && venue is null)
        {
            throw new UsageException($"--venue is required: {VenueConfig.Venues}");
        }

        IReadOnlyList<string>? liveSymbols = null;
        string? timeframe = null;
        if (venue is not null)
        {
            if (!Live && parse.GetValue(Data) is not null)
            {
                throw new UsageException("give either --venue (a live feed) or --replay (a file), not both");
            }

            liveSymbols = VenueConfig.Symbols(Get(VenueSymbols), venue);
            timeframe = Get(Timeframe) ?? "1m";
            if (!Keel.Engine.Data.Live.Timeframe.TryParse(timeframe, out _))
            {
                throw new UsageException($"{N(Timeframe)} was '{timeframe}'; it is not a timeframe that divides a day: 5s, 1m, 5m, 1h, 1d (or S5, M1, H1, D1)");
            }
        }
        else if (parse.GetValue(VenueSymbols) is not null || parse.GetValue(Url) is not null)
        {
            throw new UsageException("--symbols and --url go with --venue (paper trading on a live feed)");
        }

        // A paper run reads "replay", else the "data" of a backtest configuration, so one file configures both.
        var dataText = venue is not null ? string.Join(',', liveSymbols!.Select(s => $"live:{venue}:{s}"))
            : Get(Data) ?? (Paper ? sections.Select(x => x["data"]).FirstOrDefault(v => v is not null) : null) ?? throw new UsageException($"{Data.Name} is required: give one or more CSV files, e.g. {Data.Name} prices.csv{(Paper ? ", or a live feed with --venue alpaca|oanda --symbols …" : string.Empty)}");
        var strategy = Get(Strategy) ?? throw new UsageException("--strategy is required (see 'keel strategies' for the list)");
        var parameters = new List<string>();
        foreach (var s in sections.Reverse())
        {
            foreach (var kv in s.GetSection("params").GetChildren())
            {
                parameters.RemoveAll(p => p.StartsWith(kv.Key + "=", StringComparison.OrdinalIgnoreCase));
                parameters.Add($"{kv.Key}={kv.Value}");
            }
        }

        foreach (var p in parse.GetValue(Params) ?? [])
        {
            int eq = p.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                parameters.RemoveAll(x => x.StartsWith(p[..(eq + 1)], StringComparison.OrdinalIgnoreCase));
            }

            parameters.Add(p);
        }

        AbsolutePaths(Catalog, strategy, parameters);
        var assetClassText = (Get(AssetClass) ?? "equity").ToLowerInvariant();
        var assetClass = assetClassText switch
        {
            "equity" or "stock" or "stocks" => Domain.AssetClass.Equity,
            "forex" or "fx" => Domain.AssetClass.Forex,
            "crypto" => Domain.AssetClass.Crypto,
            _ => throw new UsageException($"{N(AssetClass)} was '{assetClassText}'; it must be equity, forex or crypto"),
        };

        var spec = new RunSpec
        {
            Mode = Live ? RunMode.Live : !Paper ? RunMode.Backtest : venue is null ? RunMode.PaperReplay : RunMode.PaperLive,
            Live = !Live ? null : new LiveSettings
            {
                Adopt = parse.GetValue(Adopt),
                CancelOnStop = parse.GetValue(CancelOnStop),
                RealMoney = parse.GetValue(RealMoney),
                ReconcileSeconds = (double)Dec(Get(ReconcileSeconds) ?? "30", N(ReconcileSeconds), 1m, 86_400m),
            },
            DataFiles = SplitList(dataText),
            Symbols = liveSymbols ?? (Get(Symbol) is string sym ? SplitList(sym) : null),
            Venue = venue,
            Brokerage = BrokerageName(Get(Brokerage) ?? venue ?? "none", N(Brokerage)),
            VenueUrl = venue is null ? null : Get(Url),
            Timeframe = timeframe,
            ConfigPath = parse.GetValue(Config),
            Strategy = strategy,
            Parameters = parameters,
            Stake = Qty(Get(Stake) ?? "1", N(Stake), positive: true),
            Cash = Amount(Get(Cash) ?? "100000", N(Cash), allowZero: false),
            Commission = Fraction(Get(Commission) ?? "0", N(Commission), max: 0.5m),
            CommissionPerShare = Amount(Get(CommissionPerShare) ?? "0", N(CommissionPerShare), allowZero: true),
            CommissionMinimum = Amount(Get(CommissionMinimum) ?? "0", N(CommissionMinimum), allowZero: true),
            CommissionPerOrder = Amount(Get(CommissionPerOrder) ?? "0", N(CommissionPerOrder), allowZero: true),
            Slippage = Fraction(Get(Slippage) ?? "0", N(Slippage), max: 0.5m),
            FillAtClose = (Get(FillAt) ?? "open").ToLowerInvariant() switch
            {
                "open" or "next-open" => false,
                "close" or "signal-close" => true,
                var other => throw new UsageException($"{N(FillAt)} was '{other}'; it must be open or close"),
            },
            BarTicks = parse.GetValue(BarTicks) && (Paper ? throw new UsageException("--bar-ticks is for backtests; paper trading replays bars as they come") : true),
            Strict = parse.GetValue(Strict),
            VolumeParticipation = Get(VolumeParticipation) is string vp ? Fraction(vp, N(VolumeParticipation), max: 1m, positive: true) : null,
            From = Get(From) is string f ? Time(f, N(From), endOfDay: false) : null,
            To = Get(To) is string t ? Time(t, N(To), endOfDay: true) : null,
            OutDir = Get(Out),
            AssetClass = assetClass,
            TickSize = Get(TickSize) is string ts ? Px(ts, N(TickSize)) : null,
            LotSize = Get(LotSize) is string ls ? Qty(ls, N(LotSize), positive: true) : null,
            Leverage = Dec(Get(Leverage) ?? "1", N(Leverage), 1m, 100m),
            MaxPosition = Get(MaxPosition) is string mp ? Qty(mp, N(MaxPosition), positive: true) : null,
            MaxOrderNotional = Get(MaxOrderNotional) is string mn ? Amount(mn, N(MaxOrderNotional), allowZero: false) : null,
            MaxOpenOrders = Get(MaxOpenOrders) is string mo ? (int)Dec(mo, N(MaxOpenOrders), 1m, 1_000_000m, whole: true) : null,
            MaxDailyLoss = Get(MaxDailyLoss) is string mdl ? Loss(mdl, N(MaxDailyLoss)) : null,
            MaxDrawdown = Get(MaxDrawdown) is string mdd ? Loss(mdd, N(MaxDrawdown)) : null,
            RiskWarning = Get(RiskWarning) is string rw ? Fraction(rw, N(RiskWarning), max: 0.999999m, positive: true) : null,
            MaxOrdersPerMinute = Get(MaxOrdersPerMinute) is string mpm ? (int)Dec(mpm, N(MaxOrdersPerMinute), 1m, 1_000_000m, whole: true) : null,
            MaxExposure = parse.GetValue(MaxExposure) is { Length: > 0 } mx ? Exposure(mx, MaxExposure.Name) : null,
            MaxTotalExposure = Get(MaxTotalExposure) is string mte ? Amount(mte, N(MaxTotalExposure), allowZero: false) : null,
            PeriodsPerYear = Get(PeriodsPerYear) is string pp ? (int)Dec(pp, N(PeriodsPerYear), 1m, 100_000m, whole: true) : null,
            PatternDayTrader = parse.GetValue(Pdt),
            Benchmark = Get(Benchmark),
            Sizing = Get(Size) is string size ? Keel.Engine.Risk.PositionSizing.Parse(size, out var sizeError) ?? throw new UsageException($"{N(Size)} was '{size}'; {sizeError}") : default,
            Quiet = parse.GetValue(Quiet),
            Speed = Paper ? ParseSpeed(Get(Speed) ?? "60", N(Speed)) : double.PositiveInfinity,
            Db = CliConfig.ResolveDb(parse.GetValue(Db), config),
            SnapshotEvery = (long)Dec(parse.GetValue(SnapshotEvery) ?? config.GetSection("storage")["snapshotEvery"] ?? "1000000", Storage(SnapshotEvery, "snapshotEvery"), 1m, 1_000_000_000_000m, whole: true),
            SnapshotSeconds = (double)Dec(parse.GetValue(SnapshotSeconds) ?? config.GetSection("storage")["snapshotSeconds"] ?? "10", Storage(SnapshotSeconds, "snapshotSeconds"), 0.001m, 86_400m),
        };

        if (spec.From is Timestamp from && spec.To is Timestamp to && from > to)
        {
            throw new UsageException($"--from {from} is after --to {to}");
        }

        if (spec.Symbols is not null && spec.Symbols.Count != spec.DataFiles.Count)
        {
            throw new UsageException($"--symbol gives {spec.Symbols.Count} symbol(s) for {spec.DataFiles.Count} data file(s); give one per file");
        }

        return spec;
    }

    /// <summary>
    /// Parameters that name files become absolute, so a stored run resumes from any working directory. A parameter
    /// is a path when its spec says so (or it is such a spec's per-symbol form, <c>name.SYMBOL</c>).
    /// </summary>
    private static void AbsolutePaths(IReadOnlyList<Keel.Engine.Strategies.StrategyDescriptor> catalog, string strategy, List<string> parameters)
    {
        var descriptor = catalog.FirstOrDefault(d => string.Equals(d.Name, strategy, StringComparison.OrdinalIgnoreCase));
        if (descriptor is null)
        {
            return;
        }

        var pathNames = descriptor.Parameters.Where(p => p.Type == "path").Select(p => p.Name).ToList();
        for (int i = 0; i < parameters.Count; i++)
        {
            int eq = parameters[i].IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                continue;
            }

            var name = parameters[i][..eq].Trim();
            var value = parameters[i][(eq + 1)..].Trim();
            if (value.Length > 0 && pathNames.Any(n => name.Equals(n, StringComparison.OrdinalIgnoreCase) || name.StartsWith(n + ".", StringComparison.OrdinalIgnoreCase)))
            {
                parameters[i] = $"{name}={Path.GetFullPath(value)}";
            }
        }
    }

    private static double ParseSpeed(string text, string option)
    {
        if (text.Equals("max", StringComparison.OrdinalIgnoreCase))
        {
            return double.PositiveInfinity;
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !(v > 0) || double.IsNaN(v))
        {
            throw new UsageException($"{option} was '{text}'; it must be a positive number or 'max'");
        }

        return v;
    }

    private static List<string> SplitList(string text) =>
        [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    internal static decimal Dec(string text, string option, decimal min, decimal max, bool whole = false)
    {
        if (!decimal.TryParse(text, NumberStyles.Number, CultureInfo.InvariantCulture, out var v) || (whole && v != decimal.Truncate(v)))
        {
            throw new UsageException($"{option} was '{text}'; it must be a {(whole ? "whole number" : "number")}");
        }

        if (v < min || v > max)
        {
            throw new UsageException($"{option} was {text}; it must be between {min} and {max}");
        }

        return v;
    }

    private static string BrokerageName(string text, string option)
    {
        var name = text.Trim().ToLowerInvariant();
        return Keel.Engine.Brokerage.BrokerageModels.Create(name) is not null
            ? name
            : throw new UsageException($"{option} was '{text}'; it must be {string.Join(", ", Keel.Engine.Brokerage.BrokerageModels.Names)}");
    }

    private static decimal Fraction(string text, string option, decimal max, bool positive = false)
    {
        decimal v = Dec(text, option, 0m, max);
        if (positive && v == 0m)
        {
            throw new UsageException($"{option} was {text}; it must be above 0");
        }

        return v;
    }

    private static LossLimit Loss(string text, string option)
    {
        var limit = LossLimit.TryParse(text) ?? throw new UsageException($"{option} was '{text}'; it must be an amount such as 5000 or a percentage such as 2%");
        return limit.Validate(option) is string problem ? throw new UsageException(problem) : limit;
    }

    private static Dictionary<string, Money> Exposure(string[] items, string option)
    {
        var result = new Dictionary<string, Money>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            int eq = item.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new UsageException($"{option} was '{item}'; it must be SYMBOL=AMOUNT");
            }

            result[item[..eq].Trim()] = Amount(item[(eq + 1)..].Trim(), option, allowZero: false);
        }

        return result;
    }

    private static Money Amount(string text, string option, bool allowZero)
    {
        if (!Money.TryParse(text, out var m))
        {
            throw new UsageException($"{option} was '{text}'; it must be an amount such as 100000 or 0.005");
        }

        if (m.IsNegative || (!allowZero && m.IsZero))
        {
            throw new UsageException($"{option} was {text}; it must be {(allowZero ? "zero or more" : "positive")}");
        }

        return m;
    }

    private static Quantity Qty(string text, string option, bool positive)
    {
        if (!Quantity.TryParse(text, out var q))
        {
            throw new UsageException($"{option} was '{text}'; it must be a quantity such as 1 or 0.5");
        }

        if (positive && !q.IsPositive)
        {
            throw new UsageException($"{option} was {text}; it must be positive");
        }

        return q;
    }

    private static Price Px(string text, string option)
    {
        if (!Price.TryParse(text, out var p) || !p.IsPositive)
        {
            throw new UsageException($"{option} was '{text}'; it must be a positive price such as 0.01");
        }

        return p;
    }

    internal static Timestamp Time(string text, string option, bool endOfDay)
    {
        if (!Timestamp.TryParse(text, out var ts))
        {
            throw new UsageException($"{option} was '{text}'; it must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS (UTC)");
        }

        return endOfDay && text.Length == 10 ? ts.AddNanos(Timestamp.NanosPerDay - 1) : ts;
    }
}
