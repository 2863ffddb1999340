using System.CommandLine;
using System.Globalization;
using Keel.Domain;
using Keel.Engine.Analytics;
using Keel.Engine.Backtest;
using Keel.Engine.Clock;
using Keel.Engine.Data;
using Keel.Engine.Kernel;
using Keel.Engine.Reporting;
using Keel.Engine.Risk;
using Keel.Engine.Simulation;
using Keel.Engine.Strategies;
using Keel.Strategies;

namespace Keel.Cli;

/// <summary><c>keel backtest</c> and <c>keel paper --replay</c>: the same run, fed from a file at full speed or at wall-clock pace.</summary>
internal static class RunCommand
{
    public static Command Create(bool paper)
    {
        var options = new RunOptions(paper);
        var command = new Command(
            paper ? "paper" : "backtest",
            paper
                ? "Paper-trade a strategy on a replayed feed: bars arrive one by one from another thread at wall-clock speed × N, through the same kernel and simulated exchange as a backtest (and give the same orders)."
                : "Backtest a strategy on historical bars and write metrics, orders, fills, trades, the equity curve and an HTML report.");
        foreach (var o in options.All)
        {
            command.Options.Add(o);
        }

        command.SetAction((parse, ct) => Task.FromResult(Execute(options, parse, ct)));
        return command;
    }

    private static int Execute(RunOptions options, ParseResult parse, CancellationToken ct)
    {
        try
        {
            var spec = options.Resolve(parse);
            return Run(spec, ct);
        }
        catch (UsageException ex)
        {
            return Fail(ex.Message, 2);
        }
        catch (StrategyConfigurationException ex)
        {
            return Fail(ex.Message, 2);
        }
        catch (DataFormatException ex)
        {
            return Fail(ex.Message, 1);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return Fail("interrupted; no results were written", 130);
        }
        catch (IOException ex)
        {
            return Fail(ex.Message, 1);
        }
        catch (Exception ex) when (Environment.GetEnvironmentVariable("KEEL_DEBUG") is null)
        {
            // A bug in Keel. One line for the user; KEEL_DEBUG=1 shows the stack trace.
            return Fail($"internal error: {ex.GetType().Name}: {ex.Message} (set KEEL_DEBUG=1 for details)", 70);
        }
    }

    private static int Fail(string message, int code)
    {
        Console.Error.WriteLine($"keel: error: {message}");
        return code;
    }

    private static int Run(RunSpec spec, CancellationToken ct)
    {
        var timings = PhaseTimer.FromEnvironment();
        timings.Mark("options");
        var descriptor = StrategyCatalog.Get(spec.Strategy);
        foreach (var file in spec.DataFiles)
        {
            if (!File.Exists(file))
            {
                throw new UsageException($"data file {file} does not exist");
            }
        }

        var instruments = BuildInstruments(spec);
        var parameters = StrategyParameters.Parse(descriptor.Name, spec.Parameters);
        var host = descriptor.Create(new StrategyContext(parameters, instruments, spec.Stake));

        using var output = spec.OutDir is null ? null : OutputFolder.Create(spec.OutDir);
        var readers = new List<IBarReader>();
        try
        {
            for (int i = 0; i < spec.DataFiles.Count; i++)
            {
                readers.Add(CsvBarReader.Open(spec.DataFiles[i], instruments[i].Id));
            }
        }
        catch
        {
            readers.ForEach(r => r.Dispose());
            throw;
        }

        if (spec.Paper)
        {
            WarnIfReplayIsSlow(spec, instruments[0].Id);
        }

        using IBarReader reader = new TimeWindowBarReader(new MergedBarReader(readers), spec.From, spec.To);
        var settings = new SessionSettings
        {
            InitialCash = spec.Cash,
            Leverage = spec.Leverage,
            Exchange = new SimulatedExchangeOptions
            {
                MarketFill = spec.FillAtClose ? MarketFillTiming.SignalBarClose : MarketFillTiming.NextBarOpen,
                Commission = CommissionModel(spec),
                Slippage = spec.Slippage > 0 ? new PercentSlippage(spec.Slippage) : NoSlippage.Instance,
                VolumeParticipation = spec.VolumeParticipation,
            },
            Kernel = new KernelOptions
            {
                Risk = new RiskLimits(spec.MaxPosition, spec.MaxOrderNotional, spec.MaxOpenOrders),
            },
            Performance = new PerformanceOptions { PeriodsPerYear = spec.PeriodsPerYear },
        };

        using var progress = new ProgressBar(spec.Paper ? "paper" : "backtest", !spec.Quiet);
        var outputs = new SessionOutputs
        {
            Orders = output?.OpenWrite("orders.csv"),
            Fills = output?.OpenWrite("fills.csv"),
            Trades = output?.OpenWrite("trades.csv"),
            Equity = output?.OpenWrite("equity.csv"),
        };

        timings.Mark("setup");
        SessionResult result;
        try
        {
            IDataFeeder feeder = spec.Paper
                ? new PacedReplayFeeder(reader, spec.Speed, TimeProvider.System, progress.Report)
                : new HistoricalFeeder(reader, progress.Report);
            IClock clock = spec.Paper ? new WallClock(TimeProvider.System) : new SimulatedClock();
            result = TradingSession.Run(settings, instruments, host, feeder, clock, outputs, ct);
        }
        finally
        {
            outputs.Orders?.Dispose();
            outputs.Fills?.Dispose();
            outputs.Trades?.Dispose();
            outputs.Equity?.Dispose();
        }

        progress.Dispose();
        timings.Mark("run");
        ct.ThrowIfCancellationRequested();
        if (result.DataEvents == 0)
        {
            var window = spec.From is not null || spec.To is not null ? " between --from and --to" : string.Empty;
            throw new DataFormatException(string.Join(",", spec.DataFiles), 0, 0, null, $"has no bars{window}; nothing to {(spec.Paper ? "replay" : "backtest")}");
        }

        var runInfo = RunInfo(spec, descriptor.Name, parameters, instruments);
        if (output is not null)
        {
            using (var report = output.OpenWrite("report.html"))
            {
                var title = $"Keel {(spec.Paper ? "paper" : "backtest")}: {descriptor.Name}";
                var run = runInfo.Select(kv => (kv.Key, Describe(kv.Value))).ToList();
                HtmlReport.Write(report, new ReportModel(title, run, result.Metrics, result.Curve, result.Trades, result.Metrics.Trades + result.Metrics.OpenTrades));
            }

            timings.Mark("report.html");

            using (var metrics = output.OpenWrite("metrics.json"))
            {
                result.Metrics.WriteJson(metrics, runInfo);
            }

            timings.Mark("metrics.json");

            output.Commit("metrics.json");
        }

        timings.Mark("report");
        PrintSummary(spec, descriptor.Name, parameters, instruments, result);
        if (output is not null)
        {
            Console.WriteLine($"wrote {Path.Combine(output.Path, "{metrics.json,orders.csv,fills.csv,trades.csv,equity.csv,report.html}")}");
        }

        timings.Mark("summary");
        timings.Print();
        return 0;
    }

    /// <summary>Paper replays pace bars at wall-clock × speed; say so when that means minutes between bars.</summary>
    private static void WarnIfReplayIsSlow(RunSpec spec, InstrumentId instrument)
    {
        if (!double.IsFinite(spec.Speed))
        {
            return;
        }

        using var peek = CsvBarReader.Open(spec.DataFiles[0], instrument);
        if (peek.TryRead(out var first) && peek.TryRead(out var second))
        {
            double seconds = (second.Time.UnixNanos - first.Time.UnixNanos) / 1e9 / spec.Speed;
            if (seconds >= 5)
            {
                Console.Error.WriteLine(
                    $"keel: note: bars are {Human(seconds * spec.Speed)} apart, so at --speed {spec.Speed.ToString(CultureInfo.InvariantCulture)} each arrives {Human(seconds)} after the last; use a larger --speed or --speed max");
            }
        }
    }

    private static string Human(double seconds) => seconds switch
    {
        >= 86_400 => Plural(seconds / 86_400, "day"),
        >= 3_600 => Plural(seconds / 3_600, "hour"),
        >= 60 => Plural(seconds / 60, "minute"),
        _ => Plural(seconds, "second"),
    };

    private static string Plural(double n, string unit)
    {
        var text = n.ToString("0.#", CultureInfo.InvariantCulture);
        return $"{text} {unit}{(text == "1" ? string.Empty : "s")}";
    }

    private static ICommissionModel CommissionModel(RunSpec spec)
    {
        var models = new List<ICommissionModel>();
        if (spec.Commission > 0)
        {
            models.Add(new PercentCommission(spec.Commission));
        }

        if (spec.CommissionPerShare.IsPositive || spec.CommissionMinimum.IsPositive)
        {
            models.Add(new PerShareCommission(spec.CommissionPerShare, spec.CommissionMinimum));
        }

        if (spec.CommissionPerOrder.IsPositive)
        {
            models.Add(new PerOrderCommission(spec.CommissionPerOrder));
        }

        return models.Count switch
        {
            0 => NoCommission.Instance,
            1 => models[0],
            _ => new CompositeCommission(models),
        };
    }

    private static List<Instrument> BuildInstruments(RunSpec spec)
    {
        var list = new List<Instrument>();
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < spec.DataFiles.Count; i++)
        {
            var symbol = spec.Symbols?[i] ?? SymbolFromFile(spec.DataFiles[i]);
            if (!seen.TryAdd(symbol, spec.DataFiles[i]))
            {
                throw new UsageException($"data files {seen[symbol]} and {spec.DataFiles[i]} both give symbol {symbol}; name them with --symbol");
            }

            var id = new InstrumentId(symbol);
            var instrument = spec.AssetClass switch
            {
                AssetClass.Forex => Instrument.ForexPair(symbol),
                AssetClass.Crypto => new Instrument(id, AssetClass.Crypto, Price.From(0.01m), Quantity.From(0.00000001m), "USD"),
                _ => Instrument.Equity(symbol),
            };
            if (spec.TickSize is not null || spec.LotSize is not null)
            {
                instrument = new Instrument(id, instrument.AssetClass, spec.TickSize ?? instrument.TickSize, spec.LotSize ?? instrument.LotSize, instrument.Currency, instrument.PipSize);
            }

            list.Add(instrument);
        }

        return list;
    }

    internal static string SymbolFromFile(string path)
    {
        var stem = Path.GetFileNameWithoutExtension(path).ToUpperInvariant();
        var chars = stem.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_').ToArray();
        return chars.Length == 0 ? "DATA" : new string(chars);
    }

    private static Dictionary<string, object?> RunInfo(RunSpec spec, string strategy, StrategyParameters parameters, IReadOnlyList<Instrument> instruments)
    {
        var info = new Dictionary<string, object?>
        {
            ["mode"] = spec.Paper ? "paper" : "backtest",
            ["strategy"] = strategy,
            ["parameters"] = parameters.Values.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList(),
            ["data"] = spec.DataFiles.Select(Path.GetFileName).OfType<string>().ToList(),
            ["symbols"] = instruments.Select(i => i.Id.Symbol).ToList(),
            ["stake"] = spec.Stake.ToString(),
            ["commission"] = spec.Commission,
            ["slippage"] = spec.Slippage,
            ["fill_at"] = spec.FillAtClose ? "close" : "open",
        };
        return info;
    }

    private static string Describe(object? value) => value switch
    {
        null => string.Empty,
        IEnumerable<KeyValuePair<string, string>> map => string.Join(", ", map.Select(kv => $"{kv.Key}={kv.Value}")),
        IEnumerable<string> list => string.Join(", ", list),
        decimal d => d.ToString(CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };

    private static void PrintSummary(RunSpec spec, string strategy, StrategyParameters parameters, IReadOnlyList<Instrument> instruments, SessionResult result)
    {
        var m = result.Metrics;
        var p = string.Join(", ", parameters.Values.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}"));
        var title = $"Keel {(spec.Paper ? "paper" : "backtest")} · {strategy}{(p.Length > 0 ? $" ({p})" : string.Empty)} · {string.Join(", ", instruments.Select(i => i.Id.Symbol))} · {m.Start?.ToString()[..10]} → {m.End?.ToString()[..10]}";
        var rows = new List<(string, string)>
        {
            ("Initial cash", Table.Money(m.InitialCash)),
            ("Final equity", Table.Money(m.FinalEquity)),
            ("Net profit", Table.Money(m.NetProfit)),
            ("Total return", Table.Pct(m.TotalReturn)),
            ("CAGR", Table.Pct(m.Cagr)),
            (string.Empty, string.Empty),
            ("Max drawdown", $"{Table.Pct(m.MaxDrawdown)} ({Table.Money(m.MaxDrawdownValue)})"),
            ($"Sharpe ({m.ReturnPeriod}, √{m.PeriodsPerYear})", Table.Num(m.Sharpe)),
            ($"Sortino ({m.ReturnPeriod}, √{m.PeriodsPerYear})", Table.Num(m.Sortino)),
            ("Exposure", Table.Pct(m.Exposure)),
            (string.Empty, string.Empty),
            ("Orders", m.Orders.ToString("N0", CultureInfo.InvariantCulture)),
            ("Trades (closed)", m.Trades.ToString("N0", CultureInfo.InvariantCulture)),
            ("Win rate", Table.Pct(m.WinRate)),
            ("Profit factor", Table.Num(m.ProfitFactor)),
            ("Commission", Table.Money(m.TotalCommission)),
            ("Bars", m.Bars.ToString("N0", CultureInfo.InvariantCulture)),
        };
        Console.Write(Table.Render(title, rows));
        if (m.Errors > 0)
        {
            Console.Error.WriteLine($"keel: warning: {m.Errors} error(s) during the run; first: {result.Notices.FirstOrDefault(n => n.Level == NoticeLevel.Error)?.Message}");
        }
    }
}
