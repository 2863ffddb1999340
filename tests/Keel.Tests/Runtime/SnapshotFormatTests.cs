using Keel.Engine.Persistence;
using Keel.Runtime.Sessions;

namespace Keel.Tests.Runtime;

/// <summary>Snapshots of another format are refused by their format number, before any of their fields is read.</summary>
public sealed class SnapshotFormatTests
{
    public const string RefusedFormat1 = "snapshot format 1 was written by an older Keel; this Keel reads format 2; start the run again";

    /// <summary>
    /// A snapshot as Keel wrote it in format 1 (hand-written per component: prices as decimal text, short field names),
    /// one sma-cross instrument with a working order.
    /// </summary>
    public const string Format1Payload = """
        {"format":1,"dataEvents":120,"kernel":{"seq":245,"state":2,"eventTime":1609770600000000000,"sliceTime":1609770600000000000,"sliceOpen":false,
        "errors":0,"warnings":0,"breaker":{"consecutive":0,"open":false,"total":0},"instruments":[{"i":"ORCL","ref":"101.5",
        "bar":{"i":"ORCL","t":1609770600000000000,"o":"101","h":"102","l":"100.5","c":"101.5","v":"1200"},"tick":null}],
        "orders":{"counter":1,"open":[{"id":"O-1","number":1,"i":"ORCL","side":1,"type":1,"qty":"100","limit":null,"stop":null,"tif":1,"tag":null,
        "created":1609770600000000000,"contingency":0,"parent":null,"linked":[],"status":2,"venueId":null,"reason":null,"submitted":null,
        "last":1609770600000000000,"fills":[]}],"recent":[]}},
        "portfolio":{"cash":"100000","commissions":"0","realized":"0","positions":[]},
        "exchange":{"dataSeq":120,"arrivals":1,"venueIds":0,"tradeIds":0,"fills":0,"now":1609770600000000000,"orders":[]},
        "strategyName":"sma-cross","strategy":[{"i":"ORCL","fast":{"count":10,"window":[]},"slow":{"count":30,"window":[]},"cross":1,"seeded":true}],
        "performance":{"peak":"100000","peakValue":100000,"peakTime":1609770600000000000,"underwater":0,"currentDay":18631,"dayEnd":"100000",
        "previousDayEnd":"100000","previousSlice":"100000","minInterval":60000000000,"maxDrawdownNanos":0,"lastEquity":"100000","slices":120,
        "inMarket":0,"first":1609763460000000000,"last":1609770600000000000,"maxDrawdownValue":"0","maxDrawdown":0,"maxDrawdownSlices":0,
        "daily":{"n":0,"mean":0,"m2":0,"down":0},"perSlice":{"n":0,"mean":0,"m2":0,"down":0},"curve":{"perBucket":1,"inCurrent":1,"points":[]}},
        "trades":{"nextId":0,"slices":120,"stats":{"count":0,"wins":0,"losses":0,"breakeven":0,"grossProfit":"0","grossLoss":"0","largestWin":"0",
        "largestLoss":"0","net":"0","bars":0},"open":[]},
        "orderCounts":{"created":1,"filled":0,"canceled":0,"rejected":0,"denied":0,"expired":0,"replaced":0,"fills":0},
        "ordersCsv":{"open":["O-1"],"done":[],"writtenThrough":0},"outputs":{"orders":226,"fills":94,"trades":141,"equity":4312}}
        """;

    [Fact]
    public void ARecordMadeFromUtf8_HasTheTextAndTheChecksumOfThatText()
    {
        // Non-ASCII on purpose: the checksum taken from the serializer's bytes must equal the one a reader computes from the text.
        string payload = "{\"format\":2,\"tag\":\"caf\u00e9 \u20ac \ud83d\ude00\"}";
        var record = SnapshotRecord.FromUtf8(7, 3, System.Text.Encoding.UTF8.GetBytes(payload), default);
        Assert.Equal(payload, record.Payload);
        Assert.Equal(SnapshotRecord.ChecksumOf(payload), record.Checksum);
        Assert.True(record.IsIntact);
        Assert.Equal((7L, 3L), (record.Sequence, record.DataEvents));
    }

    [Fact]
    public void AFormat1Snapshot_IsRefused_NamingItsFormat()
    {
        Assert.Equal(RefusedFormat1, Assert.Throws<SnapshotException>(() => TradingSession.CheckSnapshot(Format1Payload)).Message);
        Assert.Equal(RefusedFormat1, Assert.Throws<SnapshotException>(() => TradingSession.SnapshotOutputLengths(Format1Payload)).Message);
        Assert.Equal(RefusedFormat1, Assert.Throws<SnapshotException>(() => TradingSession.SnapshotDataEvents(Format1Payload)).Message);
    }

    [Fact]
    public void ASnapshotOfANewerFormat_IsRefused_NamingItsFormat()
    {
        var error = Assert.Throws<SnapshotException>(() => TradingSession.CheckSnapshot("""{"format":3,"dataEvents":1}"""));
        Assert.Equal("snapshot format 3 was written by a newer Keel; this Keel reads format 2; use that Keel or start the run again", error.Message);
    }

    [Fact]
    public void APayloadThatIsNotJson_IsASnapshotError()
    {
        var error = Assert.Throws<SnapshotException>(() => TradingSession.CheckSnapshot("{\"format\":2,"));
        Assert.StartsWith("snapshot cannot be restored", error.Message, StringComparison.Ordinal);
    }
}
