using Keel.Domain;
using Keel.Storage;
using Keel.Storage.Pipeline;
using Keel.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Keel.Tests.Storage;

/// <summary>
/// What the decision pipeline's tables must do on every store backend: decisions in and approved, a trade journaled
/// once per decision, orders once per trade and type, positions only while open, trade journal rows kept forever,
/// relations enforced, exact decimals back as they went in.
/// </summary>
public abstract class PipelineStoreContract : IDisposable
{
    private readonly List<KeelStore> _opened = [];

    protected static Timestamp T0 { get; } = Timestamp.FromParts(2024, 1, 15, 14, 45);

    protected abstract KeelStore OpenNew();

    /// <summary>Runs raw SQL against the same database.</summary>
    protected abstract void Exec(string sql);

    protected PipelineStore Open()
    {
        var store = OpenNew();
        _opened.Add(store);
        return store.Pipeline;
    }

    public virtual void Dispose()
    {
        foreach (var s in _opened)
        {
            s.Dispose();
        }

        GC.SuppressFinalize(this);
    }

    protected static NewDecision Aapl(bool approved = true) =>
        new("AAPL", DecisionAction.NewTrade, TradeSide.Long, 150.25m, 145.00m, 160.00m, 10m, TradeStyle.Swing, Approved: approved, Source: "test", Note: "seed example");

    [ContractFact]
    public void Decisions_AreAddedApprovedAndListed_WithExactDecimals()
    {
        var p = Open();
        var ids = p.AddDecisions([Aapl(approved: false), Aapl() with { Symbol = "MSFT", PlannedEntry = 0.000000001m }], T0);
        Assert.Equal(2, ids.Count);
        var d = p.FindDecision(ids[0])!;
        Assert.Equal("AAPL", d.Symbol);
        Assert.Equal(150.25m, d.PlannedEntry);
        Assert.Equal(145m, d.PlannedStopLoss);
        Assert.Equal(160m, d.PlannedTakeProfit);
        Assert.Equal(TradeStyle.Swing, d.TradeStyle);
        Assert.False(d.Approved);
        Assert.Equal(0.000000001m, p.FindDecision(ids[1])!.PlannedEntry);

        Assert.Equal([ids[1]], p.ApprovedUnexecuted().Select(x => x.Id));
        Assert.True(p.Approve(ids[0]));
        Assert.False(p.Approve(9999));
        Assert.Equal(ids, p.ApprovedUnexecuted().Select(x => x.Id));

        p.MarkExecuted(ids[0], "placed", T0);
        p.MarkExecuted(ids[0], "again", T0.AddNanos(1));
        var done = p.FindDecision(ids[0])!;
        Assert.True(done.Executed);
        Assert.Equal("placed", done.Outcome);
        Assert.Equal(T0, done.ExecutedAt);
        Assert.Equal([ids[1]], p.ApprovedUnexecuted().Select(x => x.Id));
        Assert.Equal(2, p.ListDecisions().Count);
        Assert.Single(p.ListDecisions(pendingOnly: true));
    }

    [ContractFact]
    public void AddDecisions_IsAllOrNothing()
    {
        var p = Open();
        var bad = Aapl() with { TargetDecisionId = 424242 };
        Assert.Throws<StorageException>(() => p.AddDecisions([Aapl(), bad], T0));
        Assert.Empty(p.ListDecisions());
    }

    [ContractFact]
    public void A_Trade_IsJournaledOncePerDecision_WithItsEntryOrder()
    {
        var p = Open();
        var d = p.FindDecision(p.AddDecisions([Aapl()], T0)[0])!;
        var entry = new NewOrderExecution(PipelineOrderType.Entry, "buy", 10m, 150.25m, null, $"keel-d{d.Id}-entry");
        var (trade, order) = p.OpenTrade(d, entry, T0);
        var (again, againOrder) = p.OpenTrade(d, entry, T0.AddNanos(5));
        Assert.Equal(trade.Id, again.Id);
        Assert.Equal(order.Id, againOrder.Id);
        Assert.Equal(TradeStatus.Ordered, trade.Status);
        Assert.Equal(PipelineOrderStatus.Pending, order.Status);
        Assert.Equal(0m, order.FilledQuantity);
        Assert.Single(p.Trades());
        Assert.Single(p.Orders());
        Assert.Equal([order.Id], p.ActiveOrders().Select(o => o.Id));
    }

    [ContractFact]
    public void The_SeedSwingTrade_GoesFromOrderedToPositionToClosed_ToTheCent()
    {
        var p = Open();
        var d = p.FindDecision(p.AddDecisions([Aapl()], T0)[0])!;
        var (trade, entry) = p.OpenTrade(d, new NewOrderExecution(PipelineOrderType.Entry, "buy", 10m, 150.25m, null, "keel-d1-entry"), T0);
        p.UpdateOrder(entry.Id, new OrderUpdate(PipelineOrderStatus.Filled, "abc-123", 10m, 150.25m, T0), T0);

        var position = p.OpenPosition(trade.Id, 10m, 150.25m, T0, T0);
        Assert.Equal(1502.50m, position.CostBasis);
        Assert.Equal(0m, position.UnrealizedPnl);
        Assert.Equal(TradeStatus.Position, p.FindTrade(trade.Id)!.Status);

        var sl = p.AddOrder(trade.Id, new NewOrderExecution(PipelineOrderType.StopLoss, "sell", 10m, null, 145.00m, "keel-t1-sl"), T0);
        var tp = p.AddOrder(trade.Id, new NewOrderExecution(PipelineOrderType.TakeProfit, "sell", 10m, 160.00m, null, "keel-t1-tp"), T0);
        p.SetProtection(trade.Id, sl.Id, tp.Id);

        Assert.Equal(7.50m, p.Revalue(trade.Id, 151.00m, T0)!.UnrealizedPnl);
        var low = p.Revalue(trade.Id, 148.75m, T0)!;
        Assert.Equal(-15.00m, low.UnrealizedPnl);
        Assert.Equal(1487.50m, low.MarketValue);
        Assert.Equal(sl.Id, low.StopLossOrderId);
        Assert.Equal(tp.Id, low.TakeProfitOrderId);

        p.UpdateOrder(sl.Id, new OrderUpdate(PipelineOrderStatus.Filled, "sl-456", 10m, 144.90m, T0), T0);
        var closed = p.CloseTrade(trade.Id, 144.90m, ExitReason.StoppedOut, T0, T0);
        p.UpdateOrder(tp.Id, new OrderUpdate(PipelineOrderStatus.Cancelled, "tp-789", 0m, null, null), T0);

        Assert.Equal(TradeStatus.Closed, closed.Status);
        Assert.Equal(-53.50m, closed.ActualPnl);
        Assert.Equal(144.90m, closed.ExitPrice);
        Assert.Equal(ExitReason.StoppedOut, closed.ExitReason);
        Assert.Null(p.FindPosition(trade.Id));
        Assert.Empty(p.Positions());
        Assert.Single(p.Trades());
        Assert.Empty(p.ActiveOrders());
        Assert.Equal(closed, p.CloseTrade(trade.Id, 1m, ExitReason.ManualExit, T0, T0));
    }

    [ContractFact]
    public void Trade_JournalRows_AreNeverDeleted()
    {
        var p = Open();
        var d = p.FindDecision(p.AddDecisions([Aapl()], T0)[0])!;
        p.OpenTrade(d, new NewOrderExecution(PipelineOrderType.Entry, "buy", 10m, 150.25m, null, "keel-d1-entry"), T0);
        Assert.ThrowsAny<Exception>(() => Exec("DELETE FROM trade_journal"));
        Assert.Single(p.Trades());
    }

    [ContractFact]
    public void Relations_AreEnforced_AndPositionRowsExistOnlyForOpenPositions()
    {
        var p = Open();
        Assert.ThrowsAny<Exception>(() => Exec("INSERT INTO trade_journal (decision_id, symbol, side, trade_style, status, planned_entry, planned_sl, quantity, created_at, updated_at) VALUES (999, 'X', 'LONG', 'DAY', 'ORDERED', 1, 1, 1, 0, 0)"));
        var d = p.FindDecision(p.AddDecisions([Aapl()], T0)[0])!;
        var (trade, _) = p.OpenTrade(d, new NewOrderExecution(PipelineOrderType.Entry, "buy", 10m, 150.25m, null, "keel-d1-entry"), T0);

        // An ORDERED trade has no position; a position row for it is refused.
        Assert.ThrowsAny<Exception>(() => Exec($"INSERT INTO position_tracking (trade_id, symbol, qty, avg_entry_price, cost_basis, current_price, market_value, unrealized_pnl, last_updated) VALUES ({trade.Id}, 'AAPL', 1, 1, 1, 1, 1, 0, 0)"));
        p.OpenPosition(trade.Id, 10m, 150.25m, T0, T0);

        // Closing the trade while its position row stands is refused; the store's close removes it in the same transaction.
        Assert.ThrowsAny<Exception>(() => Exec($"UPDATE trade_journal SET status = 'CLOSED', exit_reason = 'MANUAL_EXIT' WHERE id = {trade.Id}"));
        Assert.ThrowsAny<Exception>(() => Exec($"INSERT INTO order_execution (trade_id, order_type, side, quantity, client_order_id, order_status, filled_qty, updated_at) VALUES ({trade.Id}, 'ENTRY', 'buy', 1, 'other', 'pending', 0, 0)"));
        Assert.ThrowsAny<Exception>(() => Exec($"INSERT INTO order_execution (trade_id, order_type, side, quantity, client_order_id, order_status, filled_qty, updated_at) VALUES (777, 'STOP_LOSS', 'sell', 1, 'orphan', 'pending', 0, 0)"));
        Assert.Throws<StorageException>(() => p.CancelTrade(9999, T0));
        Assert.Equal(TradeStatus.Position, p.CancelTrade(trade.Id, T0).Status);
        p.CloseTrade(trade.Id, 150m, ExitReason.ManualExit, T0, T0);
        Assert.Throws<StorageException>(() => p.OpenPosition(trade.Id, 1m, 1m, T0, T0));
    }

    [ContractFact]
    public void A_PartialFill_GrowsThePosition_AndAShortGainsWhenThePriceFalls()
    {
        var p = Open();
        var d = p.FindDecision(p.AddDecisions([Aapl() with { Side = TradeSide.Short, PlannedStopLoss = 155m, PlannedTakeProfit = 140m }], T0)[0])!;
        var (trade, _) = p.OpenTrade(d, new NewOrderExecution(PipelineOrderType.Entry, "sell", 10m, 150.25m, null, "keel-d1-entry"), T0);
        p.OpenPosition(trade.Id, 4m, 150.25m, T0, T0);
        p.Revalue(trade.Id, 150m, T0);
        var grown = p.OpenPosition(trade.Id, 10m, 150.30m, T0, T0);
        Assert.Equal(10m, grown.Quantity);
        Assert.Equal(1503.00m, grown.CostBasis);
        Assert.Equal(3.00m, grown.UnrealizedPnl);
        Assert.Equal(10m, p.FindTrade(trade.Id)!.ActualQuantity);
        Assert.Equal(103.00m, p.CloseTrade(trade.Id, 140.00m, ExitReason.ProfitTaken, T0, T0).ActualPnl);
    }
}

/// <summary>The pipeline tables on a SQLite file.</summary>
public sealed class SqlitePipelineStoreTests : PipelineStoreContract
{
    private readonly TempDir _dir = new();

    protected override KeelStore OpenNew() => KeelStore.Open(_dir.File("keel.db"));

    protected override void Exec(string sql)
    {
        using var c = new SqliteConnection($"Data Source={_dir.File("keel.db")};Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "PRAGMA foreign_keys=ON; " + sql;
        cmd.ExecuteNonQuery();
    }

    public override void Dispose()
    {
        base.Dispose();
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }
}

/// <summary>The pipeline tables on a real PostgreSQL server, one schema per test.</summary>
[UsesPostgres]
public sealed class PostgresPipelineStoreTests : PipelineStoreContract
{
    private readonly Lazy<Postgres.Schema> _schema = new(Postgres.NewSchema);

    protected override KeelStore OpenNew() => KeelStore.Open(_schema.Value.ConnectionString);

    protected override void Exec(string sql) => _schema.Value.Exec($"SET search_path TO {_schema.Value.Name}; {sql}");

    public override void Dispose()
    {
        base.Dispose();
        if (_schema.IsValueCreated)
        {
            _schema.Value.Dispose();
        }
    }
}
