using System.Text.Json;
using Keel.Domain;
using Keel.Domain.Portfolio;

namespace Keel.Engine.Persistence;

/// <summary>Snapshot of a <see cref="Portfolio"/> (the domain type stays free of serialization).</summary>
public static class PortfolioSnapshot
{
    public static void Save(Utf8JsonWriter w, Portfolio p)
    {
        w.WriteStartObject();
        w.Write("cash", p.Cash);
        w.Write("commissions", p.TotalCommissions);
        w.Write("realized", p.RealizedPnl);
        w.WriteStartArray("positions");
        foreach (var pos in p.Positions)
        {
            w.WriteStartObject();
            w.WriteString("i", pos.Instrument.Symbol);
            w.Write("qty", pos.Quantity);
            w.Write("cost", pos.CostBasis);
            w.Write("realized", pos.RealizedPnl);
            w.Write("commissions", pos.Commissions);
            w.Write("last", pos.LastPrice);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    public static void Load(JsonElement e, Portfolio p) =>
        p.Restore(
            e.GetMoney("cash"),
            e.GetMoney("commissions"),
            e.GetMoney("realized"),
            e.Get("positions").EnumerateArray().Select(x => (new InstrumentId(x.GetText("i")), x.GetQuantity("qty"), x.GetMoney("cost"), x.GetMoney("realized"), x.GetMoney("commissions"), x.GetPrice("last"))).ToList());
}
