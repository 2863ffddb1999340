using System.Data.Common;
using System.Globalization;
using Keel.Domain;

namespace Keel.Storage.Pipeline;

/// <summary>
/// The decision pipeline's four tables (decisions, trade_journal, order_execution, position_tracking) in the Keel
/// store, on SQLite or PostgreSQL with the same SQL. Every method is one transaction, so a stage that crashes between
/// two calls leaves the tables consistent; the schema enforces the relations (foreign keys), keeps trade journal rows
/// forever (a trigger refuses deletes) and keeps position rows only for trades whose status is POSITION.
/// Amounts are exact decimals: text on SQLite, NUMERIC on PostgreSQL.
/// </summary>
public sealed class PipelineStore
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private readonly Func<DbConnection> _connect;
    private readonly bool _decimalsAsText;
    private readonly Func<Exception, string, StorageException?> _translate;

    internal PipelineStore(string describe, Func<DbConnection> connect, bool decimalsAsText, Func<Exception, string, StorageException?> translate)
    {
        Describe = describe;
        _connect = connect;
        _decimalsAsText = decimalsAsText;
        _translate = translate;
    }

    /// <summary>Names the database in messages.</summary>
    public string Describe { get; }

    // ---- decisions ----

    /// <summary>Adds decisions all or nothing (one transaction); returns their ids in order.</summary>
    public IReadOnlyList<long> AddDecisions(IReadOnlyList<NewDecision> decisions, Timestamp now)
    {
        ArgumentNullException.ThrowIfNull(decisions);
        return Write("add decisions", (c, tx) =>
        {
            var ids = new List<long>(decisions.Count);
            foreach (var d in decisions)
            {
                using var cmd = Command(c, tx, """
                    INSERT INTO decisions (symbol, action, side, planned_entry, planned_sl, planned_tp, quantity, trade_style, target_decision_id, approved, executed, source, note, created_at)
                    VALUES (@symbol, @action, @side, @entry, @sl, @tp, @qty, @style, @target, @approved, 0, @source, @note, @now)
                    RETURNING id
                    """);
                Add(cmd, "@symbol", d.Symbol);
                Add(cmd, "@action", PipelineText.Of(d.Action));
                Add(cmd, "@side", PipelineText.Of(d.Side));
                AddMoney(cmd, "@entry", d.PlannedEntry);
                AddMoney(cmd, "@sl", d.PlannedStopLoss);
                AddMoney(cmd, "@tp", d.PlannedTakeProfit);
                AddMoney(cmd, "@qty", d.Quantity);
                Add(cmd, "@style", PipelineText.Of(d.TradeStyle));
                Add(cmd, "@target", d.TargetDecisionId);
                Add(cmd, "@approved", d.Approved ? 1 : 0);
                Add(cmd, "@source", d.Source);
                Add(cmd, "@note", d.Note);
                Add(cmd, "@now", now.UnixNanos);
                ids.Add(Convert.ToInt64(cmd.ExecuteScalar(), Inv));
            }

            return (IReadOnlyList<long>)ids;
        });
    }

    public Decision? FindDecision(long id) => Read("read decisions", c =>
    {
        using var cmd = Command(c, null, "SELECT * FROM decisions WHERE id = @id");
        Add(cmd, "@id", id);
        return ReadAll(cmd, ReadDecision).FirstOrDefault();
    });

    /// <summary>Decisions in id order; <paramref name="pendingOnly"/>: those not executed yet.</summary>
    public IReadOnlyList<Decision> ListDecisions(bool pendingOnly = false) => Read("read decisions", c =>
    {
        using var cmd = Command(c, null, pendingOnly ? "SELECT * FROM decisions WHERE executed = 0 ORDER BY id" : "SELECT * FROM decisions ORDER BY id");
        return ReadAll(cmd, ReadDecision);
    });

    /// <summary>The decisions the executor acts on: approved and not executed, oldest first.</summary>
    public IReadOnlyList<Decision> ApprovedUnexecuted() => Read("read decisions", c =>
    {
        using var cmd = Command(c, null, "SELECT * FROM decisions WHERE approved = 1 AND executed = 0 ORDER BY id");
        return ReadAll(cmd, ReadDecision);
    });

    /// <summary>Approves a decision; false when there is no decision with that id.</summary>
    public bool Approve(long id) => Write("approve a decision", (c, tx) =>
    {
        using var cmd = Command(c, tx, "UPDATE decisions SET approved = 1 WHERE id = @id");
        Add(cmd, "@id", id);
        return cmd.ExecuteNonQuery() == 1;
    });

    /// <summary>Marks a decision executed with what became of it (idempotent: a second call keeps the first outcome).</summary>
    public void MarkExecuted(long decisionId, string outcome, Timestamp now) => Write("mark a decision executed", (c, tx) =>
    {
        using var cmd = Command(c, tx, "UPDATE decisions SET executed = 1, outcome = COALESCE(outcome, @outcome), executed_at = COALESCE(executed_at, @now) WHERE id = @id");
        Add(cmd, "@id", decisionId);
        Add(cmd, "@outcome", outcome);
        Add(cmd, "@now", now.UnixNanos);
        return cmd.ExecuteNonQuery();
    });

    // ---- trades ----

    /// <summary>
    /// Journals a decision's trade (ORDERED) and its entry order (pending) before anything is sent; a second call for
    /// the same decision returns what the first stored, so a re-run after a crash never makes a second trade.
    /// </summary>
    public (TradeJournalEntry Trade, OrderExecution Entry) OpenTrade(Decision decision, NewOrderExecution entry, Timestamp now)
    {
        ArgumentNullException.ThrowIfNull(decision);
        ArgumentNullException.ThrowIfNull(entry);
        if (decision.PlannedEntry is not decimal plannedEntry || decision.PlannedStopLoss is not decimal plannedSl || decision.Quantity is not decimal qty)
        {
            throw new ArgumentException($"decision {decision.Id} has no entry, stop-loss or quantity", nameof(decision));
        }

        return Write("journal a trade", (c, tx) =>
        {
            using (var cmd = Command(c, tx, """
                INSERT INTO trade_journal (decision_id, symbol, side, trade_style, status, planned_entry, planned_sl, planned_tp, quantity, created_at, updated_at)
                VALUES (@decision, @symbol, @side, @style, 'ORDERED', @entry, @sl, @tp, @qty, @now, @now)
                ON CONFLICT (decision_id) DO NOTHING
                """))
            {
                Add(cmd, "@decision", decision.Id);
                Add(cmd, "@symbol", decision.Symbol);
                Add(cmd, "@side", PipelineText.Of(decision.Side));
                Add(cmd, "@style", PipelineText.Of(decision.TradeStyle));
                AddMoney(cmd, "@entry", plannedEntry);
                AddMoney(cmd, "@sl", plannedSl);
                AddMoney(cmd, "@tp", decision.PlannedTakeProfit);
                AddMoney(cmd, "@qty", qty);
                Add(cmd, "@now", now.UnixNanos);
                cmd.ExecuteNonQuery();
            }

            var trade = TradeWhere(c, tx, "decision_id = @id", decision.Id)!;
            var order = InsertOrder(c, tx, trade.Id, entry, now);
            return (trade, order);
        });
    }

    public TradeJournalEntry? FindTrade(long id) => Read("read the trade journal", c => TradeWhere(c, null, "id = @id", id));

    public TradeJournalEntry? TradeOfDecision(long decisionId) => Read("read the trade journal", c => TradeWhere(c, null, "decision_id = @id", decisionId));

    /// <summary>The whole trade journal in id order.</summary>
    public IReadOnlyList<TradeJournalEntry> Trades() => Read("read the trade journal", c =>
    {
        using var cmd = Command(c, null, "SELECT * FROM trade_journal ORDER BY id");
        return ReadAll(cmd, ReadTrade);
    });

    /// <summary>ORDERED → CANCELLED (the entry never filled). A trade in any other status is left as it is; returns it.</summary>
    public TradeJournalEntry CancelTrade(long tradeId, Timestamp now) => Write("cancel a trade", (c, tx) =>
    {
        using (var cmd = Command(c, tx, "UPDATE trade_journal SET status = 'CANCELLED', updated_at = @now WHERE id = @id AND status = 'ORDERED'"))
        {
            Add(cmd, "@id", tradeId);
            Add(cmd, "@now", now.UnixNanos);
            cmd.ExecuteNonQuery();
        }

        return TradeWhere(c, tx, "id = @id", tradeId) ?? throw new StorageException($"there is no trade {tradeId} in {Describe}");
    });

    /// <summary>
    /// Records the filled part of a trade's entry: the trade becomes POSITION with its actual entry and quantity, and its
    /// position row is created or brought up to the new quantity (a partial fill that grows).
    /// </summary>
    public PositionTracking OpenPosition(long tradeId, decimal quantity, decimal averageEntry, Timestamp filledAt, Timestamp now) => Write("open a position", (c, tx) =>
    {
        var trade = TradeWhere(c, tx, "id = @id", tradeId) ?? throw new StorageException($"there is no trade {tradeId} in {Describe}");
        if (trade.Status is TradeStatus.Closed or TradeStatus.Cancelled)
        {
            throw new StorageException($"trade {tradeId} is {PipelineText.Of(trade.Status)}; it cannot get a position");
        }

        using (var cmd = Command(c, tx, "UPDATE trade_journal SET status = 'POSITION', actual_entry = @price, actual_qty = @qty, entry_time = COALESCE(entry_time, @at), updated_at = @now WHERE id = @id"))
        {
            Add(cmd, "@id", tradeId);
            AddMoney(cmd, "@price", averageEntry);
            AddMoney(cmd, "@qty", quantity);
            Add(cmd, "@at", filledAt.UnixNanos);
            Add(cmd, "@now", now.UnixNanos);
            cmd.ExecuteNonQuery();
        }

        decimal cost = averageEntry * quantity;
        var existing = PositionWhere(c, tx, tradeId);
        if (existing is null)
        {
            using var cmd = Command(c, tx, """
                INSERT INTO position_tracking (trade_id, symbol, qty, avg_entry_price, cost_basis, current_price, market_value, unrealized_pnl, last_updated)
                VALUES (@id, @symbol, @qty, @price, @cost, @price, @cost, @zero, @now)
                """);
            Add(cmd, "@id", tradeId);
            Add(cmd, "@symbol", trade.Symbol);
            AddMoney(cmd, "@qty", quantity);
            AddMoney(cmd, "@price", averageEntry);
            AddMoney(cmd, "@cost", cost);
            AddMoney(cmd, "@zero", 0m);
            Add(cmd, "@now", now.UnixNanos);
            cmd.ExecuteNonQuery();
        }
        else
        {
            decimal value = existing.CurrentPrice * quantity;
            using var cmd = Command(c, tx, "UPDATE position_tracking SET qty = @qty, avg_entry_price = @price, cost_basis = @cost, market_value = @value, unrealized_pnl = @pnl, last_updated = @now WHERE trade_id = @id");
            Add(cmd, "@id", tradeId);
            AddMoney(cmd, "@qty", quantity);
            AddMoney(cmd, "@price", averageEntry);
            AddMoney(cmd, "@cost", cost);
            AddMoney(cmd, "@value", value);
            AddMoney(cmd, "@pnl", Pnl(trade.Side, averageEntry, existing.CurrentPrice, quantity));
            Add(cmd, "@now", now.UnixNanos);
            cmd.ExecuteNonQuery();
        }

        return PositionWhere(c, tx, tradeId)!;
    });

    /// <summary>
    /// A partial exit fill: the position row shrinks to <paramref name="remaining"/> (cost basis, market value and
    /// unrealized P&amp;L with it); the trade journal keeps the entry's quantity. Null when there is no position row.
    /// </summary>
    public PositionTracking? ShrinkPosition(long tradeId, decimal remaining, Timestamp now) => Write("shrink a position", (c, tx) =>
    {
        var trade = TradeWhere(c, tx, "id = @id", tradeId);
        var position = PositionWhere(c, tx, tradeId);
        if (trade is null || position is null || remaining <= 0 || remaining == position.Quantity)
        {
            return position;
        }

        using (var cmd = Command(c, tx, "UPDATE position_tracking SET qty = @qty, cost_basis = @cost, market_value = @value, unrealized_pnl = @pnl, last_updated = @now WHERE trade_id = @id"))
        {
            Add(cmd, "@id", tradeId);
            AddMoney(cmd, "@qty", remaining);
            AddMoney(cmd, "@cost", position.AverageEntryPrice * remaining);
            AddMoney(cmd, "@value", position.CurrentPrice * remaining);
            AddMoney(cmd, "@pnl", Pnl(trade.Side, position.AverageEntryPrice, position.CurrentPrice, remaining));
            Add(cmd, "@now", now.UnixNanos);
            cmd.ExecuteNonQuery();
        }

        return PositionWhere(c, tx, tradeId);
    });

    /// <summary>Links a position to its protective orders.</summary>
    public void SetProtection(long tradeId, long? stopLossOrderId, long? takeProfitOrderId) => Write("link protective orders", (c, tx) =>
    {
        using var cmd = Command(c, tx, "UPDATE position_tracking SET stop_loss_order_id = COALESCE(@sl, stop_loss_order_id), take_profit_order_id = COALESCE(@tp, take_profit_order_id) WHERE trade_id = @id");
        Add(cmd, "@id", tradeId);
        Add(cmd, "@sl", stopLossOrderId);
        Add(cmd, "@tp", takeProfitOrderId);
        return cmd.ExecuteNonQuery();
    });

    /// <summary>
    /// Closes a trade: realized P&amp;L = (exit − entry) × quantity (the other way for a short), status CLOSED with its
    /// reason, and its position row removed, in one transaction. A trade already closed is returned as it is.
    /// </summary>
    public TradeJournalEntry CloseTrade(long tradeId, decimal exitPrice, ExitReason reason, Timestamp exitTime, Timestamp now) => Write("close a trade", (c, tx) =>
    {
        var trade = TradeWhere(c, tx, "id = @id", tradeId) ?? throw new StorageException($"there is no trade {tradeId} in {Describe}");
        if (trade.Status == TradeStatus.Closed)
        {
            return trade;
        }

        if (trade.Status != TradeStatus.Position || trade.ActualEntry is not decimal entry || trade.ActualQuantity is not decimal qty)
        {
            throw new StorageException($"trade {tradeId} is {PipelineText.Of(trade.Status)}, not POSITION; it cannot be closed");
        }

        using (var del = Command(c, tx, "DELETE FROM position_tracking WHERE trade_id = @id"))
        {
            Add(del, "@id", tradeId);
            del.ExecuteNonQuery();
        }

        using (var cmd = Command(c, tx, "UPDATE trade_journal SET status = 'CLOSED', exit_price = @exit, actual_pnl = @pnl, exit_reason = @reason, exit_time = @at, updated_at = @now WHERE id = @id"))
        {
            Add(cmd, "@id", tradeId);
            AddMoney(cmd, "@exit", exitPrice);
            AddMoney(cmd, "@pnl", Pnl(trade.Side, entry, exitPrice, qty));
            Add(cmd, "@reason", PipelineText.Of(reason));
            Add(cmd, "@at", exitTime.UnixNanos);
            Add(cmd, "@now", now.UnixNanos);
            cmd.ExecuteNonQuery();
        }

        return TradeWhere(c, tx, "id = @id", tradeId)!;
    });

    /// <summary>Realized or unrealized P&amp;L of a trade: (price − entry) × quantity for a long, the opposite for a short.</summary>
    public static decimal Pnl(TradeSide side, decimal entry, decimal price, decimal quantity) =>
        side == TradeSide.Long ? (price - entry) * quantity : (entry - price) * quantity;

    // ---- orders ----

    /// <summary>Journals an order of a trade before it is sent; the same trade and order type again returns the first.</summary>
    public OrderExecution AddOrder(long tradeId, NewOrderExecution order, Timestamp now) =>
        Write("journal an order", (c, tx) => InsertOrder(c, tx, tradeId, order, now));

    public OrderExecution? FindOrder(long id) => Read("read orders", c =>
    {
        using var cmd = Command(c, null, "SELECT * FROM order_execution WHERE id = @id");
        Add(cmd, "@id", id);
        return ReadAll(cmd, ReadOrder).FirstOrDefault();
    });

    public IReadOnlyList<OrderExecution> OrdersOfTrade(long tradeId) => Read("read orders", c =>
    {
        using var cmd = Command(c, null, "SELECT * FROM order_execution WHERE trade_id = @id ORDER BY id");
        Add(cmd, "@id", tradeId);
        return ReadAll(cmd, ReadOrder);
    });

    /// <summary>Every order, in id order.</summary>
    public IReadOnlyList<OrderExecution> Orders() => Read("read orders", c =>
    {
        using var cmd = Command(c, null, "SELECT * FROM order_execution ORDER BY id");
        return ReadAll(cmd, ReadOrder);
    });

    /// <summary>Orders the order monitor follows: pending (journaled), accepted or partially filled.</summary>
    public IReadOnlyList<OrderExecution> ActiveOrders() => Read("read orders", c =>
    {
        using var cmd = Command(c, null, "SELECT * FROM order_execution WHERE order_status IN ('pending', 'accepted', 'partially_filled') ORDER BY id");
        return ReadAll(cmd, ReadOrder);
    });

    /// <summary>Records what the venue says about an order.</summary>
    public OrderExecution UpdateOrder(long orderId, OrderUpdate update, Timestamp now)
    {
        ArgumentNullException.ThrowIfNull(update);
        return Write("update an order", (c, tx) =>
        {
            using (var cmd = Command(c, tx, """
                UPDATE order_execution SET order_status = @status, venue_order_id = COALESCE(@venue, venue_order_id), filled_qty = @filled,
                    filled_avg_price = COALESCE(@avg, filled_avg_price), filled_at = COALESCE(@at, filled_at),
                    submitted_at = COALESCE(submitted_at, @now), updated_at = @now, error = COALESCE(@error, error)
                WHERE id = @id
                """))
            {
                Add(cmd, "@id", orderId);
                Add(cmd, "@status", PipelineText.Of(update.Status));
                Add(cmd, "@venue", update.VenueOrderId);
                AddMoney(cmd, "@filled", update.FilledQuantity);
                AddMoney(cmd, "@avg", update.FilledAveragePrice);
                Add(cmd, "@at", update.FilledAt?.UnixNanos);
                Add(cmd, "@now", now.UnixNanos);
                Add(cmd, "@error", update.Error);
                if (cmd.ExecuteNonQuery() != 1)
                {
                    throw new StorageException($"there is no order {orderId} in {Describe}");
                }
            }

            using var read = Command(c, tx, "SELECT * FROM order_execution WHERE id = @id");
            Add(read, "@id", orderId);
            return ReadAll(read, ReadOrder)[0];
        });
    }

    // ---- positions ----

    /// <summary>Every open position, by trade id.</summary>
    public IReadOnlyList<PositionTracking> Positions() => Read("read positions", c =>
    {
        using var cmd = Command(c, null, "SELECT * FROM position_tracking ORDER BY trade_id");
        return ReadAll(cmd, ReadPosition);
    });

    public PositionTracking? FindPosition(long tradeId) => Read("read positions", c => PositionWhere(c, null, tradeId));

    /// <summary>Values a position at <paramref name="price"/>: market value and unrealized P&amp;L; null when it is gone.</summary>
    public PositionTracking? Revalue(long tradeId, decimal price, Timestamp now) => Write("value a position", (c, tx) =>
    {
        var trade = TradeWhere(c, tx, "id = @id", tradeId);
        var position = PositionWhere(c, tx, tradeId);
        if (trade is null || position is null)
        {
            return null;
        }

        using (var cmd = Command(c, tx, "UPDATE position_tracking SET current_price = @price, market_value = @value, unrealized_pnl = @pnl, last_updated = @now WHERE trade_id = @id"))
        {
            Add(cmd, "@id", tradeId);
            AddMoney(cmd, "@price", price);
            AddMoney(cmd, "@value", price * position.Quantity);
            AddMoney(cmd, "@pnl", Pnl(trade.Side, position.AverageEntryPrice, price, position.Quantity));
            Add(cmd, "@now", now.UnixNanos);
            cmd.ExecuteNonQuery();
        }

        return PositionWhere(c, tx, tradeId);
    });

    // ---- firings of `keel pipeline run` ----

    /// <summary>
    /// Claims one scheduled run of a stage for <paramref name="node"/>: true when this call recorded it, false when the
    /// (stage, fire time) was already claimed — by another node, or by this one before a restart.
    /// </summary>
    public bool ClaimFiring(string stage, Timestamp fireTime, string node, Timestamp now) => Write("record a firing", (c, tx) =>
    {
        using var cmd = Command(c, tx, """
            INSERT INTO pipeline_firings (stage, fire_time, node, started_at) VALUES (@stage, @fire, @node, @now)
            ON CONFLICT (stage, fire_time) DO NOTHING
            """);
        Add(cmd, "@stage", stage);
        Add(cmd, "@fire", fireTime.UnixNanos);
        Add(cmd, "@node", node);
        Add(cmd, "@now", now.UnixNanos);
        return cmd.ExecuteNonQuery() == 1;
    });

    /// <summary>Records what a claimed firing did.</summary>
    public void FinishFiring(string stage, Timestamp fireTime, string outcome, Timestamp now) => Write("record a firing", (c, tx) =>
    {
        using var cmd = Command(c, tx, "UPDATE pipeline_firings SET finished_at = @now, outcome = @outcome WHERE stage = @stage AND fire_time = @fire");
        Add(cmd, "@stage", stage);
        Add(cmd, "@fire", fireTime.UnixNanos);
        Add(cmd, "@now", now.UnixNanos);
        Add(cmd, "@outcome", outcome);
        return cmd.ExecuteNonQuery();
    });

    /// <summary>Every recorded firing, in fire time order.</summary>
    public IReadOnlyList<PipelineFiring> Firings() => Read("read firings", c =>
    {
        using var cmd = Command(c, null, "SELECT * FROM pipeline_firings ORDER BY fire_time, stage");
        return ReadAll(cmd, r => new PipelineFiring(
            Text(r, "stage")!,
            Time(r, "fire_time")!.Value,
            Text(r, "node")!,
            Time(r, "started_at")!.Value,
            Time(r, "finished_at"),
            Text(r, "outcome")));
    });

    // ---- plumbing ----

    private OrderExecution InsertOrder(DbConnection c, DbTransaction tx, long tradeId, NewOrderExecution o, Timestamp now)
    {
        using (var cmd = Command(c, tx, """
            INSERT INTO order_execution (trade_id, order_type, side, quantity, limit_price, stop_price, client_order_id, order_status, filled_qty, updated_at)
            VALUES (@trade, @type, @side, @qty, @limit, @stop, @client, 'pending', @zero, @now)
            ON CONFLICT (trade_id, order_type) DO NOTHING
            """))
        {
            Add(cmd, "@trade", tradeId);
            Add(cmd, "@type", PipelineText.Of(o.OrderType));
            Add(cmd, "@side", o.Side);
            AddMoney(cmd, "@qty", o.Quantity);
            AddMoney(cmd, "@limit", o.LimitPrice);
            AddMoney(cmd, "@stop", o.StopPrice);
            Add(cmd, "@client", o.ClientOrderId);
            AddMoney(cmd, "@zero", 0m);
            Add(cmd, "@now", now.UnixNanos);
            cmd.ExecuteNonQuery();
        }

        using var read = Command(c, tx, "SELECT * FROM order_execution WHERE trade_id = @trade AND order_type = @type");
        Add(read, "@trade", tradeId);
        Add(read, "@type", PipelineText.Of(o.OrderType));
        return ReadAll(read, ReadOrder)[0];
    }

    private static TradeJournalEntry? TradeWhere(DbConnection c, DbTransaction? tx, string where, long id)
    {
        using var cmd = Command(c, tx, "SELECT * FROM trade_journal WHERE " + where);
        Add(cmd, "@id", id);
        return ReadAll(cmd, ReadTrade).FirstOrDefault();
    }

    private static PositionTracking? PositionWhere(DbConnection c, DbTransaction? tx, long tradeId)
    {
        using var cmd = Command(c, tx, "SELECT * FROM position_tracking WHERE trade_id = @id");
        Add(cmd, "@id", tradeId);
        return ReadAll(cmd, ReadPosition).FirstOrDefault();
    }

    private T Read<T>(string what, Func<DbConnection, T> action)
    {
        try
        {
            using var c = _connect();
            return action(c);
        }
        catch (Exception ex) when (ex is not StorageException && _translate(ex, what) is { } translated)
        {
            throw translated;
        }
    }

    private T Write<T>(string what, Func<DbConnection, DbTransaction, T> action)
    {
        try
        {
            using var c = _connect();
            using var tx = c.BeginTransaction();
            var result = action(c, tx);
            tx.Commit();
            return result;
        }
        catch (Exception ex) when (ex is not StorageException && _translate(ex, what) is { } translated)
        {
            throw translated;
        }
    }

    private static DbCommand Command(DbConnection c, DbTransaction? tx, string sql)
    {
        var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        return cmd;
    }

    private static void Add(DbCommand cmd, string name, object? value)
    {
        var p = cmd.CreateParameter();
        p.ParameterName = name;
        p.Value = value ?? DBNull.Value;
        cmd.Parameters.Add(p);
    }

    private void AddMoney(DbCommand cmd, string name, decimal? value)
    {
        var p = cmd.CreateParameter();
        p.ParameterName = name;
        p.Value = value is decimal d ? (_decimalsAsText ? PipelineText.Decimal(d) : d) : DBNull.Value;
        if (!_decimalsAsText)
        {
            p.DbType = System.Data.DbType.Decimal;
        }

        cmd.Parameters.Add(p);
    }

    private static List<T> ReadAll<T>(DbCommand cmd, Func<DbDataReader, T> read)
    {
        using var r = cmd.ExecuteReader();
        var list = new List<T>();
        while (r.Read())
        {
            list.Add(read(r));
        }

        return list;
    }

    private static decimal? Dec(DbDataReader r, string column)
    {
        int i = r.GetOrdinal(column);
        if (r.IsDBNull(i))
        {
            return null;
        }

        return r.GetValue(i) switch
        {
            string s => decimal.Parse(s, NumberStyles.Float, Inv),
            decimal d => d,
            var v => Convert.ToDecimal(v, Inv),
        };
    }

    private static decimal Dec0(DbDataReader r, string column) => Dec(r, column) ?? throw new StorageException($"column {column} is empty");

    private static long? Long(DbDataReader r, string column)
    {
        int i = r.GetOrdinal(column);
        return r.IsDBNull(i) ? null : Convert.ToInt64(r.GetValue(i), Inv);
    }

    private static Timestamp? Time(DbDataReader r, string column) => Long(r, column) is long n ? Timestamp.FromUnixNanos(n) : null;

    private static string? Text(DbDataReader r, string column)
    {
        int i = r.GetOrdinal(column);
        return r.IsDBNull(i) ? null : r.GetString(i);
    }

    private static Decision ReadDecision(DbDataReader r) => new(
        Long(r, "id")!.Value,
        Text(r, "symbol")!,
        PipelineText.Action(Text(r, "action")!),
        PipelineText.Side(Text(r, "side")!),
        Dec(r, "planned_entry"),
        Dec(r, "planned_sl"),
        Dec(r, "planned_tp"),
        Dec(r, "quantity"),
        PipelineText.Style(Text(r, "trade_style")!),
        Long(r, "target_decision_id"),
        Long(r, "approved") == 1,
        Long(r, "executed") == 1,
        Text(r, "outcome"),
        Text(r, "source"),
        Text(r, "note"),
        Time(r, "created_at")!.Value,
        Time(r, "executed_at"));

    private static TradeJournalEntry ReadTrade(DbDataReader r) => new(
        Long(r, "id")!.Value,
        Long(r, "decision_id")!.Value,
        Text(r, "symbol")!,
        PipelineText.Side(Text(r, "side")!),
        PipelineText.Style(Text(r, "trade_style")!),
        PipelineText.Status(Text(r, "status")!),
        Dec0(r, "planned_entry"),
        Dec0(r, "planned_sl"),
        Dec(r, "planned_tp"),
        Dec0(r, "quantity"),
        Dec(r, "actual_entry"),
        Dec(r, "actual_qty"),
        Dec(r, "exit_price"),
        Dec(r, "actual_pnl"),
        Text(r, "exit_reason") is string reason ? PipelineText.Reason(reason) : null,
        Time(r, "entry_time"),
        Time(r, "exit_time"),
        Time(r, "created_at")!.Value,
        Time(r, "updated_at")!.Value);

    private static OrderExecution ReadOrder(DbDataReader r) => new(
        Long(r, "id")!.Value,
        Long(r, "trade_id")!.Value,
        PipelineText.OrderType(Text(r, "order_type")!),
        Text(r, "side")!,
        Dec0(r, "quantity"),
        Dec(r, "limit_price"),
        Dec(r, "stop_price"),
        Text(r, "client_order_id")!,
        Text(r, "venue_order_id"),
        PipelineText.OrderStatus(Text(r, "order_status")!),
        Dec0(r, "filled_qty"),
        Dec(r, "filled_avg_price"),
        Time(r, "filled_at"),
        Time(r, "submitted_at"),
        Time(r, "updated_at")!.Value,
        Text(r, "error"));

    private static PositionTracking ReadPosition(DbDataReader r) => new(
        Long(r, "trade_id")!.Value,
        Text(r, "symbol")!,
        Dec0(r, "qty"),
        Dec0(r, "avg_entry_price"),
        Dec0(r, "cost_basis"),
        Dec0(r, "current_price"),
        Dec0(r, "market_value"),
        Dec0(r, "unrealized_pnl"),
        Time(r, "last_updated")!.Value,
        Long(r, "stop_loss_order_id"),
        Long(r, "take_profit_order_id"));
}
