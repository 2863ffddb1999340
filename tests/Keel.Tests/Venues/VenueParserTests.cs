using System.Text;
using System.Text.Json;
using Keel.Domain;
using Keel.Tests.Support;
using Keel.Venues.Alpaca;
using Keel.Venues.Oanda;

namespace Keel.Tests.Venues;

/// <summary>The wire parsers against the reference's fixtures (§F) and against what a hostile stream can send.</summary>
public class VenueParserTests
{
    private static readonly Timestamp Received = Timestamp.FromParts(2021, 2, 22, 15, 52);

    [Fact]
    public void AlpacaSessionFixtureParsesToTheDocumentedValues()
    {
        var handler = new Recorder();
        var parser = new AlpacaMessageParser(["AAPL", "AMD"]);
        foreach (var line in File.ReadLines(TestPaths.Fixture("alpaca.stream.marketdata_session.jsonl")))
        {
            using var doc = JsonDocument.Parse(line);
            if (doc.RootElement.GetProperty("dir").GetString() == "S")
            {
                parser.Parse(Encoding.UTF8.GetBytes(doc.RootElement.GetProperty("msg").GetRawText()), Received, handler);
            }
        }

        Assert.Empty(handler.Malformed);
        Assert.Equal(["Success:0:connected", "Success:0:authenticated", "Subscription:0:trades: 1, quotes: 2, bars: 1", "Subscription:0:trades: 1, quotes: 2, bars: 0"], handler.Controls);
        Assert.Equal(3, handler.Ticks.Count);
        var trade = handler.Ticks[0];
        Assert.True(trade.HasTrade);
        Assert.Equal("AAPL", trade.Instrument.Symbol);
        Assert.Equal(Price.Parse("126.55"), trade.Last);
        Assert.Equal(Quantity.Parse("1"), trade.Size);
        Assert.Equal("D", trade.Exchange);
        Assert.Equal(Timestamp.FromParts(2021, 2, 22, 15, 51, 44, 208_000_000), trade.Time);
        Assert.Equal(Received, trade.ReceivedAt);
        var quote = handler.Ticks[2];
        Assert.True(quote.HasQuote);
        Assert.Equal(Price.Parse("87.66"), quote.Bid);
        Assert.Equal(Price.Parse("87.68"), quote.Ask);
        Assert.Equal(Quantity.Parse("4"), quote.AskSize);

        // Nanoseconds kept exactly (System.Text.Json's DateTimeOffset would truncate them to 100 ns).
        Assert.Equal(Timestamp.FromParts(2021, 2, 22, 15, 51, 45, 335_689_322), quote.Time);
        var bar = Assert.Single(handler.Bars);
        Assert.Equal("SPY", bar.Instrument.Symbol);
        Assert.Equal(Price.Parse("388.985"), bar.Open);
        Assert.Equal(Price.Parse("389.12"), bar.Close);
        Assert.Equal(Quantity.Parse("49378"), bar.Volume);
    }

    [Fact]
    public void AlpacaErrorFixturesReportCodeAndMessage()
    {
        var handler = new Recorder();
        var parser = new AlpacaMessageParser(["AAPL"]);
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("alpaca.stream.marketdata_errors.json")));
        foreach (var frame in doc.RootElement.EnumerateArray())
        {
            parser.Parse(Encoding.UTF8.GetBytes(frame.GetRawText()), Received, handler);
        }

        Assert.Empty(handler.Malformed);
        Assert.Contains("Error:402:auth failed", handler.Controls);
        Assert.Contains("Error:406:connection limit exceeded", handler.Controls);
        Assert.All(handler.Controls, c => Assert.StartsWith("Error:", c, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("""[{"T":"t","S":"AAPL","p":"abc","s":1,"t":"2021-02-22T15:51:44Z"}]""", "invalid 'p'")]
    [InlineData("""[{"T":"t","S":"AAPL","s":1,"t":"2021-02-22T15:51:44Z"}]""", "lacks a price")]
    [InlineData("""[{"T":"t","S":"AAPL","p":1,"s":1,"t":"yesterday"}]""", "invalid 't'")]
    [InlineData("""[{"T":"t","p":1,"s":1,"t":"2021-02-22T15:51:44Z"}]""", "no symbol")]
    [InlineData("""[{"T":"zz","S":"AAPL"}]""", "unknown message type")]
    [InlineData("""[{"S":"AAPL"}]""", "no message type")]
    [InlineData("""[{"T":"t","S":"AAPL",""", "invalid JSON")]
    [InlineData("""{"T":"t"}""", "not a JSON array")]
    [InlineData("""[42]""", "not an object")]
    public void AlpacaMalformedElementsAreReportedAndSkipped(string frame, string expected)
    {
        var handler = new Recorder();
        new AlpacaMessageParser(["AAPL"]).Parse(Encoding.UTF8.GetBytes(frame), Received, handler);
        Assert.Empty(handler.Ticks);
        Assert.Contains(expected, Assert.Single(handler.Malformed), StringComparison.Ordinal);
    }

    [Fact]
    public void AlpacaGoodElementsAroundABadOneStillArrive()
    {
        var handler = new Recorder();
        var frame = """[{"T":"t","S":"AAPL","p":1.5,"s":2,"t":"2021-02-22T15:51:44Z"},{"T":"t","S":"AAPL","p":null,"s":2,"t":"2021-02-22T15:51:45Z"},{"T":"t","S":"MSFT","p":2.25,"s":3,"t":"2021-02-22T15:51:46Z","c":["@"]}]""";
        new AlpacaMessageParser(["AAPL"]).Parse(Encoding.UTF8.GetBytes(frame), Received, handler);
        Assert.Equal([Price.Parse("1.5"), Price.Parse("2.25")], handler.Ticks.Select(t => t.Last));
        Assert.Equal("MSFT", handler.Ticks[1].Instrument.Symbol);
        Assert.Single(handler.Malformed);
    }

    [Fact]
    public void OandaPricingFixtureParsesBestBidAskAndHeartbeats()
    {
        var parser = new OandaPriceParser(["EUR_USD", "EUR_JPY"]);
        var kinds = new List<OandaLine>();
        var ticks = new List<Tick>();
        foreach (var line in File.ReadLines(TestPaths.Fixture("oanda.pricing_stream.jsonl")))
        {
            kinds.Add(parser.Parse(Encoding.UTF8.GetBytes(line), Received, out var tick, out _, out var problem));
            Assert.Null(problem);
            if (kinds[^1] == OandaLine.Price)
            {
                ticks.Add(tick);
            }
        }

        Assert.Contains(OandaLine.Heartbeat, kinds);
        Assert.DoesNotContain(OandaLine.Malformed, kinds);
        var first = ticks[0];
        Assert.Equal("EUR_JPY", first.Instrument.Symbol);
        Assert.Equal(Price.Parse("114.295"), first.Bid);
        Assert.Equal(Price.Parse("114.312"), first.Ask);
        Assert.Equal(Quantity.Parse("1000000"), first.BidSize);
        Assert.Equal(Timestamp.FromParts(2016, 10, 27, 8, 38, 43, 94_548_890), first.Time);
    }

    [Theory]
    [InlineData("""{"type":"PRICE","instrument":"EUR_USD","time":"2016-10-27T08:38:43.094548890Z","bids":[],"asks":[{"price":"1.1","liquidity":1}]}""", "bids[0]/asks[0]")]
    [InlineData("""{"type":"PRICE","time":"2016-10-27T08:38:43Z","bids":[{"price":"1.0"}],"asks":[{"price":"1.1"}]}""", "without 'instrument'")]
    [InlineData("""{"type":"PRICE","instrument":"EUR_USD","time":"soon","bids":[{"price":"1.0"}],"asks":[{"price":"1.1"}]}""", "invalid 'time'")]
    [InlineData("""{"type":"HEARTBEAT"}""", "heartbeat without")]
    [InlineData("""{"instrument":"EUR_USD"}""", "no 'type'")]
    [InlineData("""{"type":"PRICE",""", "invalid JSON")]
    [InlineData("""[1,2]""", "not a JSON object")]
    public void OandaMalformedLinesAreNamed(string line, string expected)
    {
        var kind = new OandaPriceParser(["EUR_USD"]).Parse(Encoding.UTF8.GetBytes(line), Received, out _, out _, out var problem);
        Assert.Equal(OandaLine.Malformed, kind);
        Assert.Contains(expected, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void OandaUnixTimesAreExact()
    {
        Assert.True(OandaPriceParser.TryTime("1476732900.123456789"u8, out var t));
        Assert.Equal(1_476_732_900_123_456_789L, t.UnixNanos);
    }

    [Fact]
    public void AlpacaBarPagesParseExactlyAndFollowTheToken()
    {
        var (bars, next) = AlpacaBarSource.ParsePage(File.ReadAllBytes(TestPaths.Fixture("alpaca.data.bars.json")), new InstrumentId("AAPL"), "test");
        var bar = Assert.Single(bars);
        Assert.Equal(Timestamp.FromParts(2022, 4, 11, 8), bar.Time);
        Assert.Equal(Price.Parse("168.99"), bar.Open);
        Assert.Equal(Price.Parse("169"), bar.Close);
        Assert.Equal(Quantity.Parse("7170"), bar.Volume);
        Assert.Equal("QUFQTHxNfDIwMjItMDQtMTFUMDg6MDA6MDAuMDAwMDAwMDAwWg==", next);
        var (none, end) = AlpacaBarSource.ParsePage("""{"bars":null,"symbol":"AAPL","next_page_token":null}"""u8.ToArray(), new InstrumentId("AAPL"), "test");
        Assert.Empty(none);
        Assert.Null(end);
    }

    [Fact]
    public void OandaCandlesKeepOnlyCompleteOnesInRange()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("oanda.candles.json")));
        var body = Encoding.UTF8.GetBytes(doc.RootElement.GetProperty("mid_example").GetRawText());
        var (bars, received, last) = OandaCandleSource.ParseCandles(body, new InstrumentId("DE30_EUR"), "M", Timestamp.FromParts(2030, 1, 1), "test");
        Assert.Equal(2, received);
        Assert.Equal(2, bars.Count);
        Assert.Equal(Price.Parse("10503.8"), bars[0].Open);
        Assert.Equal(Price.Parse("10504.9"), bars[1].Close);
        Assert.Equal(Quantity.Parse("162"), bars[1].Volume);
        Assert.Equal(Timestamp.FromParts(2016, 10, 17, 19, 40), last);

        var bidAsk = Encoding.UTF8.GetBytes(doc.RootElement.GetProperty("bid_ask_example").GetRawText());
        var (incomplete, count, _) = OandaCandleSource.ParseCandles(bidAsk, new InstrumentId("EUR_USD"), "B", Timestamp.FromParts(2030, 1, 1), "test");
        Assert.Equal(count - 1, incomplete.Count); // the last, incomplete candle is left out
    }

    private sealed class Recorder : IAlpacaMessageHandler
    {
        public List<Tick> Ticks { get; } = [];

        public List<Bar> Bars { get; } = [];

        public List<string> Controls { get; } = [];

        public List<string> Malformed { get; } = [];

        public void OnTick(in Tick tick) => Ticks.Add(tick);

        public void OnBar(in Bar bar) => Bars.Add(bar);

        public void OnControl(AlpacaControl kind, int code, string message) => Controls.Add($"{kind}:{code}:{message}");

        public void OnMalformed(string detail) => Malformed.Add(detail);
    }
}
