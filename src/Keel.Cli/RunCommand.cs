using System.CommandLine;
using System.Globalization;
using Keel.Data;
using Keel.Domain;
using Keel.Engine.Analytics;
using Keel.Engine.Backtest;
using Keel.Engine.Clock;
using Keel.Engine.Data;
using Keel.Engine.Kernel;
using Keel.Engine.Persistence;
using Keel.Engine.Reporting;
using Keel.Engine.Risk;
using Keel.Engine.Simulation;
using Keel.Engine.Strategies;
using Keel.Storage;
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

        // On another thread, so Ctrl+C (SIGINT/SIGTERM) cancels the token while the run is going, and the run stops cleanly.
        command.SetAction((parse, ct) => Task.Run(() => Execute(options, parse, ct), CancellationToken.None));
        return command;
    }

    private static int Execute(RunOptions options, ParseResult parse, CancellationToken ct) =>
        Guard(() => Run(options.Resolve(parse), null, ct), ct);

    /// <summary>Runs <paramref name="action"/>, turning every expected failure into one line on stderr and an exit code.</summary>
    internal static int Guard(Func<int> action, CancellationToken ct)
    {
        try
        {
            return action();
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
        catch (StorageException ex)
        {
            return Fail(ex.Message, 1);
        }
        catch (JournalException ex)
        {
            return Fail(ex.Message, 1);
        }
        catch (SnapshotException ex)
        {
            return Fail(ex.Message, 1);
        }
        catch (Keel.Venues.Http.VenueRequestException ex)
        {
            return Fail(ex.Message, 1);
        }
        catch (Keel.Engine.Ports.FeedFailedException ex)
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

    internal static int Fail(string message, int code)
    {
        Console.Error.WriteLine($"keel: error: {message}");
        return code;
    }

    /// <summary>A new run id: UTC start time plus six random hex digits (sortable, unique enough, easy to type a prefix of).</summary>
    internal static string NewRunId() =>
        $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Random.Shared.Next(0, 1 << 24):x6}";

    /// <summary>
    /// Runs a backtest or paper replay. With a store (the default) the run is recorded: run record, journal, snapshots
    /// and final metrics; <paramref name="resume"/> continues a recorded run from its newest intact snapshot.
    /// </summary>
    internal static int Run(RunSpec spec, RunRecord? resume, CancellationToken ct)
    {
        var timings = PhaseTimer.FromEnvironment();
        timings.Mark("options");
        var descriptor = StrategyCatalog.Get(spec.Strategy);
        if (resume is not null && spec.Venue is not null)
        {
            throw new UsageException("a paper run on a live feed cannot be resumed (the feed has moved on); start a new one");
        }

        foreach (var file in spec.DataFiles)
        {
            if (RunSpec.IsLiveSource(file))
            {
                continue;
            }

            if (RunSpec.IsStoreSource(file))
            {
                RunSpec.ParseStoreSource(file);
                if (spec.Db is null)
                {
                    throw new UsageException($"data source {file} reads the store, but --db none was given");
                }
            }
            else if (!File.Exists(file))
            {
                throw new UsageException($"data file {file} does not exist");
            }
        }

        var instruments = BuildInstruments(spec);
        var parameters = StrategyParameters.Parse(descriptor.Name, spec.Parameters);
        var host = descriptor.Create(new StrategyContext(parameters, instruments, spec.Stake));

        using var store = spec.Db is null ? null : KeelStore.Open(spec.Db);
        timings.Mark("store");
        string? runId = resume?.Id;
        var now = Now();
        if (store is not null && resume is null)
        {
            runId = NewRunId();
            store.CreateRun(new RunRecord(
                runId, spec.Paper ? "paper" : "backtest", RunStatus.Created, descriptor.Name,
                string.Join(",", parameters.Values.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}")),
                string.Join(",", spec.DataFiles), RunSpecJson.Write(spec), spec.OutDir is null ? null : Path.GetFullPath(spec.OutDir),
                0, now, now, null, null, null, 0, null));
        }

        if (runId is not null)
        {
            Console.WriteLine($"run: {runId}");
        }

        using var runLock = store is null ? null : store.TryLockRun(runId!)
            ?? throw new UsageException($"run {runId} is being run by another Keel process right now");
        try
        {
            return Run(spec, descriptor, parameters, instruments, host, store, runId, resume, timings, ct);
        }
        catch (Exception ex) when (store is not null && ex is not OperationCanceledException)
        {
            MarkFailed(store, runId!, ex);
            throw;
        }
    }

    /// <summary>
    /// A run stopped by the store (a lock, a full disk, a server gone) keeps its staged files so a resume continues them;
    /// any other failure (bad data, a bug) leaves nothing behind.
    /// </summary>
    private static bool WorthKeeping(Exception ex) => ex is StorageException or JournalException or OperationCanceledException;

    private static int Run(
        RunSpec spec,
        StrategyDescriptor descriptor,
        StrategyParameters parameters,
        List<Instrument> instruments,
        IStrategyHost host,
        KeelStore? store,
        string? runId,
        RunRecord? resume,
        PhaseTimer timings,
        CancellationToken ct)
    {
        OutputFolder? output = null;
        try
        {
            return Run(spec, descriptor, parameters, instruments, host, store, runId, resume, timings, o => output = o, ct);
        }
        catch (Exception ex) when (output is not null && !WorthKeeping(ex))
        {
            output.KeepStaging = false;
            output.Dispose();
            throw;
        }
    }

    private static int Run(
        RunSpec spec,
        StrategyDescriptor descriptor,
        StrategyParameters parameters,
        List<Instrument> instruments,
        IStrategyHost host,
        KeelStore? store,
        string? runId,
        RunRecord? resume,
        PhaseTimer timings,
        Action<OutputFolder> opened,
        CancellationToken ct)
    {
        // A resumed run continues from its newest intact snapshot, if its staged files still reach that far.
        SnapshotRecord? snapshot = null;
        if (resume is not null)
        {
            snapshot = store!.LatestIntactSnapshot(runId!, message => Console.Error.WriteLine($"keel: warning: {message}"));
        }

        using var output = spec.OutDir is null ? null : OutputFolder.Create(spec.OutDir, runId, resume: snapshot is not null);
        IReadOnlyDictionary<string, long>? lengths = snapshot is null ? null : TradingSession.SnapshotOutputLengths(snapshot.Payload);
        if (snapshot is not null && output is not null && !output.HasAtLeast(lengths!))
        {
            Console.Error.WriteLine($"keel: warning: the staged output files of run {runId} in {output.Path} are missing or shorter than its last snapshot; starting the run again from the beginning (the result is the same)");
            snapshot = null;
            lengths = null;
        }

        if (output is not null)
        {
            output.KeepStaging = store is not null;
            opened(output);
        }

        if (resume is not null)
        {
            Console.WriteLine(snapshot is null
                ? $"resuming run {runId} from the beginning (no usable snapshot)"
                : $"resuming run {runId} from {KeelStore.DescribeSnapshot(snapshot)}");
        }

        var readers = new List<IBarReader>();
        try
        {
            for (int i = 0; i < spec.DataFiles.Count && spec.Venue is null; i++)
            {
                var source = spec.DataFiles[i];
                if (RunSpec.IsStoreSource(source))
                {
                    var (symbol, timeframe) = RunSpec.ParseStoreSource(source);
                    readers.Add(store!.ReadCandles(instruments[i].Id, symbol, timeframe, spec.From, spec.To));
                }
                else
                {
                    readers.Add(CsvBarReader.Open(source, instruments[i].Id));
                }
            }
        }
        catch
        {
            readers.ForEach(r => r.Dispose());
            throw;
        }

        if (spec.Paper && resume is null && spec.Venue is null && !RunSpec.IsStoreSource(spec.DataFiles[0]))
        {
            WarnIfReplayIsSlow(spec, instruments[0].Id);
        }

        IBarReader reader = spec.Venue is not null ? new NoBars() : new TimeWindowBarReader(new MergedBarReader(readers), spec.From, spec.To);
        if (snapshot is not null)
        {
            reader = new SkippingBarReader(reader, TradingSession.SnapshotDataEvents(snapshot.Payload));
        }

        using var readerScope = reader;
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

        using var progress = new ProgressBar(spec.Paper ? "paper" : "backtest", !spec.Quiet && spec.Venue is null);
        double fraction = 0;
        void Report(long done, long total)
        {
            fraction = total > 0 ? (double)done / total : 0;
            progress.Report(done, total);
        }

        Stream? Open(string name) => output is null ? null
            : lengths is null ? output.OpenWrite(name + ".csv")
            : output.OpenContinue(name + ".csv", lengths.TryGetValue(name, out var length) ? length : 0);

        var outputs = new SessionOutputs
        {
            Orders = Open("orders"),
            Fills = Open("fills"),
            Trades = Open("trades"),
            Equity = Open("equity"),
            Append = snapshot is not null,
        };

        var persistence = store is null ? null : new SessionPersistence
        {
            Journal = timings.Time(store),
            RunId = runId!,
            Time = TimeProvider.System,
            SnapshotEveryEvents = spec.SnapshotEvery,
            SnapshotEvery = TimeSpan.FromSeconds(spec.SnapshotSeconds),
            ResumeFrom = snapshot?.Payload,
            Progress = () => Volatile.Read(ref fraction) * 100,
        };
        if (store is not null)
        {
            var startedAt = Now();
            store.UpdateRun(runId!, RunStatus.Running, startedAt, startedAt: resume?.StartedAt ?? startedAt);
        }

        timings.Mark("setup");
        SessionResult result;
        LivePaper? live = null;
        try
        {
            // On a live feed Ctrl+C ends the stream, and the run completes normally with what it saw.
            live = spec.Venue is null ? null : LivePaper.Start(spec, instruments, store, ct);
            IDataFeeder feeder = live is not null ? live.Feeder
                : spec.Paper ? new PacedReplayFeeder(reader, spec.Speed, TimeProvider.System, Report)
                : new HistoricalFeeder(reader, Report);
            IClock clock = spec.Paper ? new WallClock(TimeProvider.System) : new SimulatedClock();
            result = TradingSession.Run(settings, instruments, host, feeder, clock, outputs, live is null ? ct : CancellationToken.None, persistence);
            live?.Finish();
        }
        finally
        {
            live?.Dispose();
            outputs.Orders?.Dispose();
            outputs.Fills?.Dispose();
            outputs.Trades?.Dispose();
            outputs.Equity?.Dispose();
        }

        progress.Dispose();
        timings.Mark("run");
        if (result.Outcome == LoopOutcome.Cancelled || (ct.IsCancellationRequested && spec.Venue is null))
        {
            if (store is null)
            {
                throw new OperationCanceledException(ct);
            }

            store.UpdateRun(runId!, RunStatus.Stopped, Now(), progress: Math.Round(fraction * 100, 2));
            return Fail($"interrupted; run {runId} stopped after {result.DataEvents:N0} bars and can be continued with: keel resume {runId}", 130);
        }

        if (result.DataEvents == 0 && spec.Venue is not null)
        {
            throw new DataFormatException(spec.Venue, 0, 0, null, "sent no complete candle before the run ended; nothing to report");
        }

        if (result.DataEvents == 0)
        {
            var window = spec.From is not null || spec.To is not null ? " between --from and --to" : string.Empty;
            throw new DataFormatException(string.Join(",", spec.DataFiles), 0, 0, null, $"has no bars{window}; nothing to {(spec.Paper ? "replay" : "backtest")}");
        }

        // No run id in metrics.json: the same inputs give the same bytes, recorded or not, resumed or not.
        var runInfo = RunInfo(spec, descriptor.Name, parameters, instruments);

        if (output is not null)
        {
            var shown = TradeRow.ReadCsv(output.StagedPath("trades.csv"), 1000);

            using (var report = output.OpenWrite("report.html"))
            {
                var title = $"Keel {(spec.Paper ? "paper" : "backtest")}: {descriptor.Name}";
                var run = runInfo.Select(kv => (kv.Key, Describe(kv.Value))).ToList();
                HtmlReport.Write(report, new ReportModel(title, run, result.Metrics, result.Curve, shown, result.Metrics.Trades + result.Metrics.OpenTrades));
            }

            timings.Mark("report.html");

            using (var metrics = output.OpenWrite("metrics.json"))
            {
                result.Metrics.WriteJson(metrics, runInfo);
            }

            timings.Mark("metrics.json");

            output.Commit("metrics.json");
        }

        if (store is not null)
        {
            using var metricsJson = new MemoryStream();
            result.Metrics.WriteJson(metricsJson, runInfo);
            var done = Now();
            store.UpdateRun(runId!, RunStatus.Completed, done, progress: 100, finishedAt: done, metrics: System.Text.Encoding.UTF8.GetString(metricsJson.ToArray()));
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

    private static Timestamp Now() => Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow);

    /// <summary>The file reader of a live run, which reads no file.</summary>
    private sealed class NoBars : IBarReader
    {
        public (long Done, long Total) Progress => (0, 0);

        public bool TryRead(out Bar bar)
        {
            bar = default;
            return false;
        }

        public void Dispose()
        {
        }
    }

    /// <summary>Records a failure on the run, if the store can still be written; the original error is what the user sees.</summary>
    private static void MarkFailed(KeelStore store, string runId, Exception ex)
    {
        try
        {
            store.UpdateRun(runId, RunStatus.Failed, Now(), error: ex.Message);
        }
        catch (StorageException)
        {
            // The store itself is what failed; the error line says so.
        }
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
            var symbol = spec.Symbols?[i]
                ?? (RunSpec.IsStoreSource(spec.DataFiles[i]) ? RunSpec.ParseStoreSource(spec.DataFiles[i]).Symbol : SymbolFromFile(spec.DataFiles[i]));
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
