using System.Text.Json;
using Keel.Domain;
using Keel.Domain.Events;
using Keel.Domain.Orders;
using Keel.Engine.Kernel;
using Keel.Engine.Risk;
using Keel.Runtime.Sessions;
using Keel.Tests.Support;
using static Keel.Tests.Support.Harness;

namespace Keel.Tests.Risk;

public class RiskRulesTests
{
    private static readonly InstrumentId X = new("X");

    private static Timestamp Day(int day, int hour = 15) => Timestamp.FromParts(2024, 1, day, hour);

    private static RiskState Observe(RiskState state, long equity, Timestamp time, RiskLimits limits, out RiskTransition? t) =>
        RiskRules.Observe(state, Money.From(equity), time, limits, out t);

    private static RiskDecision Decide(OrderSide side, long qty, long position, RiskLimits limits, RiskState state, out RiskState next, Timestamp? time = null, long gross = 0, long symbolExposure = 0, long equity = 100_000) =>
        RiskRules.Evaluate(
            OrderRequest.Market(X, side, Quantity.From(qty)),
            Quantity.From(position),
            Price.Parse("100"),
            new RiskAccount(Money.From(equity), Money.From(gross), Money.From(symbolExposure)),
            time ?? Day(2),
            limits,
            state,
            out next);

    [Fact]
    public void DailyLoss_WarningGoesReducing_LimitHalts_AndANewDayResets()
    {
        var limits = new RiskLimits { MaxDailyLoss = LossLimit.Of(Money.From(5_000)), WarningFraction = 0.5m };
        var s = Observe(default, 100_000, Day(2, 14), limits, out var t);
        Assert.Equal(RiskMode.Active, s.Mode);
        Assert.Null(t);

        s = Observe(s, 97_000, Day(2, 15), limits, out t);
        Assert.Equal(RiskMode.Reducing, s.Mode);
        Assert.Equal(new RiskTransition(RiskMode.Active, RiskMode.Reducing, "daily loss 3000.00 reached the warning level of 2500.00"), t);
        Assert.False(Decide(OrderSide.Buy, 1, 0, limits, s, out _).Approved);
        Assert.StartsWith("risk state is REDUCING", Decide(OrderSide.Buy, 1, 0, limits, s, out _).Reason, StringComparison.Ordinal);
        Assert.True(Decide(OrderSide.Sell, 10, 10, limits, s, out _).Approved);

        s = Observe(s, 94_000, Day(2, 16), limits, out t);
        Assert.Equal(RiskMode.Halted, s.Mode);
        Assert.Equal(RiskMode.Reducing, t!.Value.From);
        Assert.Equal("daily loss 6000.00 reached the limit of 5000.00 (5000.00) for the rest of the day", t.Value.Reason);

        // Recovering within the day does not lift the halt.
        s = Observe(s, 100_000, Day(2, 17), limits, out t);
        Assert.Equal(RiskMode.Halted, s.Mode);
        Assert.Null(t);
        Assert.StartsWith("risk state is HALTED (daily loss", Decide(OrderSide.Buy, 1, 0, limits, s, out _).Reason, StringComparison.Ordinal);
        Assert.True(Decide(OrderSide.Buy, 5, -5, limits, s, out _).Approved);

        // The next day measures from the previous day's last equity.
        s = Observe(s, 99_000, Day(3, 14), limits, out t);
        Assert.Equal(RiskMode.Active, s.Mode);
        Assert.Equal(new RiskTransition(RiskMode.Halted, RiskMode.Active, "a new trading day began"), t);
        Assert.Equal(Money.From(100_000), s.DayStartEquity);
        Assert.True(Decide(OrderSide.Buy, 1, 0, limits, s, out _).Approved);
    }

    [Fact]
    public void Drawdown_HaltsFromThePeak_AndStaysHaltedOnLaterDays()
    {
        var limits = new RiskLimits { MaxDrawdown = LossLimit.OfPercent(10m) };
        var s = Observe(default, 100_000, Day(2), limits, out _);
        s = Observe(s, 120_000, Day(3), limits, out _);
        s = Observe(s, 109_000, Day(4), limits, out var t);
        Assert.Equal(RiskMode.Active, s.Mode);
        Assert.Null(t);
        s = Observe(s, 108_000, Day(5), limits, out t);
        Assert.Equal(RiskMode.Halted, s.Mode);
        Assert.Equal("drawdown 12000.00 from the equity peak 120000.00 reached the limit of 12000.00 (10%)", t!.Value.Reason);
        s = Observe(s, 119_000, Day(8), limits, out t);
        Assert.Equal(RiskMode.Halted, s.Mode);
        Assert.Null(t);
    }

    [Fact]
    public void OrderRate_CountsApprovedOrdersInARollingWindowOfEventTime()
    {
        var limits = new RiskLimits { MaxOrdersPerWindow = 2 };
        var s = Observe(default, 100_000, Day(2), limits, out _);
        var t0 = Day(2);
        Assert.True(Decide(OrderSide.Buy, 1, 0, limits, s, out s, t0).Approved);
        Assert.True(Decide(OrderSide.Buy, 1, 1, limits, s, out s, t0.AddNanos(10 * Timestamp.NanosPerSecond)).Approved);
        var denied = Decide(OrderSide.Buy, 1, 2, limits, s, out var unchanged, t0.AddNanos(59 * Timestamp.NanosPerSecond));
        Assert.Equal("2 orders in the last 60 s reached the order rate limit of 2", denied.Reason);
        Assert.Equal(s, unchanged);
        Assert.True(Decide(OrderSide.Sell, 1, 2, limits, s, out _, t0.AddNanos(59 * Timestamp.NanosPerSecond)).Approved);
        Assert.True(Decide(OrderSide.Buy, 1, 2, limits, s, out s, t0.AddNanos(61 * Timestamp.NanosPerSecond)).Approved);
        Assert.Equal(2, s.OrderTimes!.Length);
    }

    [Fact]
    public void Exposure_PerSymbolAndTotal_DenyOpening_ButNotReducing()
    {
        var perSymbol = new RiskLimits { MaxSymbolExposure = new Dictionary<string, Money> { ["X"] = Money.From(10_000) } };
        var s = Observe(default, 100_000, Day(2), perSymbol, out _);
        Assert.True(Decide(OrderSide.Buy, 100, 0, perSymbol, s, out _).Approved);
        Assert.Equal("exposure in X would reach 10100.00, above the limit of 10000.00", Decide(OrderSide.Buy, 1, 100, perSymbol, s, out _).Reason);
        Assert.True(Decide(OrderSide.Sell, 150, 150, perSymbol, s, out _).Approved);

        var total = new RiskLimits { MaxTotalExposure = Money.From(50_000) };
        Assert.Equal(
            "total exposure would reach 50100.00, above the limit of 50000.00",
            Decide(OrderSide.Buy, 1, 0, total, s, out _, gross: 50_000).Reason);
        Assert.True(Decide(OrderSide.Buy, 1, 0, total, s, out _, gross: 40_000).Approved);
        Assert.True(Decide(OrderSide.Sell, 100, 600, total, s, out _, gross: 90_000, symbolExposure: 60_000).Approved);
    }

    [Fact]
    public void PatternDayTrader_AfterThreeDayTradesInFiveTradingDays_DeniesOpening_ButNotClosing()
    {
        var limits = new RiskLimits { PatternDayTrader = true };
        var s = default(RiskState);

        // Mon 2024-01-08 .. Wed 2024-01-10: open and close X each day (three day trades).
        foreach (int day in new[] { 8, 9, 10 })
        {
            s = Observe(s, 20_000, Day(day), limits, out _);
            Assert.True(Decide(OrderSide.Buy, 1, 0, limits, s, out s, Day(day), equity: 20_000).Approved);
            Assert.True(Decide(OrderSide.Sell, 1, 1, limits, s, out s, Day(day), equity: 20_000).Approved);
        }

        Assert.Equal(3, s.DayTradeDays!.Length);
        s = Observe(s, 20_000, Day(11), limits, out _);
        Assert.Equal(
            "pattern day trader rule: 3 day trades in the last 5 trading days with equity 20000.00 below 25000.00",
            Decide(OrderSide.Buy, 1, 0, limits, s, out _, Day(11), equity: 20_000).Reason);
        Assert.True(Decide(OrderSide.Sell, 1, 5, limits, s, out _, Day(11), equity: 20_000).Approved);
        Assert.True(Decide(OrderSide.Buy, 1, 0, limits, s, out _, Day(11), equity: 30_000).Approved);

        // Mon 2024-01-15: Monday the 8th has left the window of 5 trading days (the 9th to the 15th).
        s = Observe(s, 20_000, Day(15), limits, out _);
        Assert.True(Decide(OrderSide.Buy, 1, 0, limits, s, out _, Day(15), equity: 20_000).Approved);

        // Off by default: the same history denies nothing.
        Assert.True(Decide(OrderSide.Buy, 1, 0, RiskLimits.None, s, out _, Day(11), equity: 20_000).Approved);
    }

    [Fact]
    public void LossLimit_ParsesAmountsAndPercentages_AndValidates()
    {
        Assert.Equal(LossLimit.OfPercent(2m), LossLimit.TryParse("2%"));
        Assert.Equal(LossLimit.Of(Money.From(5_000)), LossLimit.TryParse("5000"));
        Assert.Null(LossLimit.TryParse("abc"));
        Assert.Equal("2%", LossLimit.OfPercent(2m).ToText());
        Assert.NotNull(new RiskLimits { MaxDrawdown = LossLimit.OfPercent(150m) }.Validate());
        Assert.NotNull(new RiskLimits { WarningFraction = 1m }.Validate());
        Assert.Null(new RiskLimits { MaxDailyLoss = LossLimit.OfPercent(2m), WarningFraction = 0.8m }.Validate());
        Assert.False(RiskLimits.None.HasStateRules);
    }

    /// <summary>A backtest with a drawdown halt: opening orders after the halt are denied with the reason, the exit passes.</summary>
    [Fact]
    public void Backtest_DrawdownHalt_StopsOpeningTrades_AndJournalsTheTransition()
    {
        var h = new Harness((i, b, m, t) =>
        {
            switch (i)
            {
                case 0:
                    t.Submit(OrderRequest.Market(b.Instrument, OrderSide.Buy, Quantity.From(900)));
                    break;
                case 1:
                    t.Submit(OrderRequest.Market(b.Instrument, OrderSide.Buy, Quantity.From(1)));
                    break;
                case 2:
                    t.Submit(OrderRequest.Market(b.Instrument, OrderSide.Buy, Quantity.From(1)));
                    break;
                case 3:
                    t.Submit(OrderRequest.Market(b.Instrument, OrderSide.Sell, Quantity.From(901)));
                    break;
                case 4:
                    t.Submit(OrderRequest.Market(b.Instrument, OrderSide.Buy, Quantity.From(1)));
                    break;
                default:
                    break;
            }
        }, kernel: new KernelOptions { Risk = new RiskLimits { MaxDrawdown = LossLimit.OfPercent(10m) } });
        h.Run(Bar(2, "100", "100", "100", "100"), Bar(3, "100", "100", "100", "100"), Bar(4, "100", "100", "88", "88"), Bar(5, "88", "88", "88", "88"), Bar(8, "95", "95", "95", "95"), Bar(9, "95", "95", "95", "95"));
        Assert.Equal(OrderStatus.Filled, h.Status("O-1"));
        Assert.Equal(OrderStatus.Filled, h.Status("O-2"));
        Assert.Equal(OrderStatus.Denied, h.Status("O-3"));
        Assert.StartsWith("risk state is HALTED (drawdown 10812.00 from the equity peak 100000.00", h.Order("O-3").Reason, StringComparison.Ordinal);
        Assert.Equal(OrderStatus.Filled, h.Status("O-4"));
        Assert.Equal(OrderStatus.Denied, h.Status("O-5"));
        Assert.Contains(h.Updates, u => u.Event is OrderDenied d && d.ClientOrderId.Value == "O-5" && d.Reason.StartsWith("risk state is HALTED", StringComparison.Ordinal));
        var notice = Assert.Single(h.Notices, n => n.Code == "risk_state");
        Assert.Equal(NoticeLevel.Warning, notice.Level);
        Assert.StartsWith("risk state ACTIVE -> HALTED: drawdown 10812.00", notice.Message, StringComparison.Ordinal);
        Assert.Equal(RiskMode.Halted, h.Kernel.RiskState.Mode);
    }

    [Fact]
    public void Backtest_DailyLossHalt_LiftsTheNextDay()
    {
        var h = new Harness((i, b, m, t) =>
        {
            if (i == 0)
            {
                t.Submit(OrderRequest.Market(b.Instrument, OrderSide.Buy, Quantity.From(1_000)));
            }
            else
            {
                t.Submit(OrderRequest.Market(b.Instrument, OrderSide.Buy, Quantity.From(1)));
            }
        }, kernel: new KernelOptions { Risk = new RiskLimits { MaxDailyLoss = LossLimit.Of(Money.From(5_000)) } }, cash: 200_000m);
        h.Run(Bar(2, "100", "100", "100", "100"), Bar(3, "100", "100", "94", "94"), Bar(4, "94", "94", "94", "94"), Bar(5, "94", "94", "94", "94"));
        Assert.Equal(OrderStatus.Filled, h.Status("O-1"));
        Assert.Equal(OrderStatus.Denied, h.Status("O-2"));
        Assert.StartsWith("risk state is HALTED (daily loss 6000.00", h.Order("O-2").Reason, StringComparison.Ordinal);
        Assert.Equal(OrderStatus.Filled, h.Status("O-3"));
        Assert.Equal(
            ["risk state ACTIVE -> HALTED: daily loss 6000.00 reached the limit of 5000.00 (5000.00) for the rest of the day", "risk state HALTED -> ACTIVE: a new trading day began"],
            h.Notices.Where(n => n.Code == "risk_state").Select(n => n.Message));
    }

    [Fact]
    public void Snapshot_KeepsTheRiskState_AndOldSnapshotsWithoutItStillRead()
    {
        var limits = new RiskLimits { MaxDrawdown = LossLimit.OfPercent(10m), MaxOrdersPerWindow = 5 };
        var h = new Harness((i, b, m, t) =>
        {
            if (i == 0)
            {
                t.Submit(OrderRequest.Market(b.Instrument, OrderSide.Buy, Quantity.From(900)));
            }
        }, kernel: new KernelOptions { Risk = limits });
        h.Run(Bar(2, "100", "100", "100", "100"), Bar(3, "100", "100", "100", "100"), Bar(4, "88", "88", "88", "88"), Bar(5, "88", "88", "88", "88"));
        Assert.Equal(RiskMode.Halted, h.Kernel.RiskState.Mode);

        var json = JsonSerializer.Serialize(h.Kernel.Capture(), SnapshotJsonContext.Default.KernelSnapshot);
        var read = JsonSerializer.Deserialize(json, SnapshotJsonContext.Default.KernelSnapshot)!;
        var resumed = new Harness((i, b, m, t) => { }, kernel: new KernelOptions { Risk = limits });
        resumed.Kernel.Restore(read);
        Assert.Equal(RiskMode.Halted, resumed.Kernel.RiskState.Mode);
        Assert.Equal(h.Kernel.RiskState.HaltReason, resumed.Kernel.RiskState.HaltReason);
        Assert.Equal(h.Kernel.RiskState.Peak, resumed.Kernel.RiskState.Peak);
        Assert.Equal(h.Kernel.RiskState.OrderTimes, resumed.Kernel.RiskState.OrderTimes);

        // A snapshot written before the rules existed has no "risk" field and still reads; rules off write none.
        using var doc = JsonDocument.Parse(json);
        var old = new System.Text.Json.Nodes.JsonObject();
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            if (p.Name != "risk")
            {
                old[p.Name] = System.Text.Json.Nodes.JsonNode.Parse(p.Value.GetRawText());
            }
        }

        Assert.Null(JsonSerializer.Deserialize(old.ToJsonString(), SnapshotJsonContext.Default.KernelSnapshot)!.Risk);
        var off = new Harness((i, b, m, t) => { }).Run(Bar(2, "100", "100", "100", "100"));
        Assert.DoesNotContain("\"risk\"", JsonSerializer.Serialize(off.Kernel.Capture(), SnapshotJsonContext.Default.KernelSnapshot), StringComparison.Ordinal);
    }
}
