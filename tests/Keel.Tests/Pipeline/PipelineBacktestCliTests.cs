using Keel.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Keel.Tests.Pipeline;

/// <summary><c>keel pipeline backtest</c> through the real CLI: the seed's SWING example over historical bars, to the cent.</summary>
public sealed class PipelineBacktestCliTests : IDisposable
{
    private readonly TempDir _dir = new();

    private static string Data(string name) => Path.Combine(TestPaths.RepoRoot, "tests", "Keel.Tests", "Pipeline", "Data", name);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    [Fact]
    public void The_SeedSwingExample_IsReproducedToTheCent_ByPipelineBacktest()
    {
        var outDir = _dir.File("out");
        var result = CliRunner.Run(_dir.Path, null, "pipeline", "backtest", "--decisions", Data("seed-swing-decisions.csv"), "--data", Data("aapl-seed-5m.csv"), "--out", outDir);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("-53.50", result.Stdout, StringComparison.Ordinal);

        var journal = File.ReadAllLines(Path.Combine(outDir, "trade_journal.csv"));
        Assert.Equal("trade_id,decision_id,symbol,side,trade_style,status,planned_entry,planned_sl,planned_tp,quantity,actual_entry,actual_qty,exit_price,actual_pnl,exit_reason,entry_time,exit_time", journal[0]);
        Assert.Equal("1,1,AAPL,LONG,SWING,CLOSED,150.25,145.00,160.00,10,150.25,10,144.90,-53.50,STOPPED_OUT,2024-01-16T15:00:00Z,2024-01-17T19:40:00Z", journal[1]);
        Assert.Equal(2, journal.Length);

        var orders = File.ReadAllLines(Path.Combine(outDir, "order_executions.csv"));
        Assert.Equal(4, orders.Length);
        Assert.StartsWith("1,1,ENTRY,buy,10,150.25,,kp-d1-entry,", orders[1], StringComparison.Ordinal);
        Assert.Contains(",filled,10,150.25,", orders[1], StringComparison.Ordinal);
        Assert.StartsWith("2,1,STOP_LOSS,sell,10,,145.00,kp-t1-sl,", orders[2], StringComparison.Ordinal);
        Assert.Contains(",filled,10,144.90,", orders[2], StringComparison.Ordinal);
        Assert.StartsWith("3,1,TAKE_PROFIT,sell,10,160.00,,kp-t1-tp,", orders[3], StringComparison.Ordinal);
        Assert.Contains(",cancelled,0,,", orders[3], StringComparison.Ordinal);

        // Every valuation: the seed's 151.00 (+7.50) at 10:20 ET and 148.75 (−15.00) at 14:30 ET; none after the close.
        var positions = File.ReadAllLines(Path.Combine(outDir, "positions.csv"));
        Assert.Equal("last_updated,trade_id,symbol,qty,avg_entry_price,cost_basis,current_price,market_value,unrealized_pnl", positions[0]);
        Assert.Contains("2024-01-16T15:20:00Z,1,AAPL,10,150.25,1502.50,151.00,1510.00,7.50", positions);
        Assert.Contains("2024-01-16T19:30:00Z,1,AAPL,10,150.25,1502.50,148.75,1487.50,-15.00", positions);
        Assert.DoesNotContain(positions.Skip(1), l => string.CompareOrdinal(l[..20], "2024-01-17T19:40:00Z") > 0);

        var metrics = File.ReadAllText(Path.Combine(outDir, "metrics.json"));
        Assert.Contains("\"realized_pnl\": \"-53.50\"", metrics, StringComparison.Ordinal);
        Assert.Contains("\"STOPPED_OUT\": 1", metrics, StringComparison.Ordinal);

        // The report: the trade with its exit, every order, and the P&L curve ending at the realized −53.50.
        var report = File.ReadAllText(Path.Combine(outDir, "report.html"));
        Assert.Contains("STOPPED_OUT", report, StringComparison.Ordinal);
        Assert.Contains("kp-t1-tp", report, StringComparison.Ordinal);
        Assert.Contains("<polyline", report, StringComparison.Ordinal);
        Assert.Contains("■ total -53.50", report, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", report, StringComparison.OrdinalIgnoreCase);

        // The store the stages used: the journal row kept, the position row gone.
        var show = CliRunner.Run(_dir.Path, null, "decisions", "show", "1", "--db", Path.Combine(outDir, "pipeline.db"));
        Assert.True(show.ExitCode == 0, show.ToString());
        Assert.Contains("CLOSED", show.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("position ", show.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void A_DecisionOnASymbolWithNoData_IsRefused_WithItsLine()
    {
        var decisions = _dir.File("d.csv");
        File.WriteAllText(decisions, "symbol,action,planned_entry,planned_sl,planned_tp,quantity,trade_style\nMSFT,NEW_TRADE,400,390,420,5,SWING\n");
        var result = CliRunner.Run(_dir.Path, null, "pipeline", "backtest", "--decisions", decisions, "--data", Data("aapl-seed-5m.csv"), "--out", _dir.File("out"));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("d.csv: line 2: unknown symbol 'MSFT'; the known symbols are AAPL", result.Stderr, StringComparison.Ordinal);
    }
}
