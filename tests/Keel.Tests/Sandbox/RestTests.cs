using System.Net;
using System.Text.Json;
using Keel.Data;
using Keel.Domain;
using Keel.Sandbox;
using static Keel.Tests.Sandbox.SandboxTesting;

namespace Keel.Tests.Sandbox;

/// <summary>Alpaca bars REST and OANDA candles REST against the replayed file.</summary>
public class RestTests
{
    private static List<Bar> FileBars()
    {
        var bars = new List<Bar>();
        using var reader = CsvBarReader.Open(MinuteFile, new InstrumentId("IDX"));
        while (reader.TryRead(out var bar))
        {
            bars.Add(bar);
        }

        return bars;
    }

    private static void AssertSameKinds(JsonElement expected, JsonElement actual)
    {
        foreach (var p in expected.EnumerateObject())
        {
            Assert.True(actual.TryGetProperty(p.Name, out var v), $"missing '{p.Name}' in {actual}");
            var kind = p.Value.ValueKind is JsonValueKind.True or JsonValueKind.False ? JsonValueKind.True : p.Value.ValueKind;
            var actualKind = v.ValueKind is JsonValueKind.True or JsonValueKind.False ? JsonValueKind.True : v.ValueKind;
            Assert.True(kind == actualKind || (kind == JsonValueKind.String && actualKind == JsonValueKind.Null) || (kind == JsonValueKind.Null && actualKind == JsonValueKind.String),
                $"'{p.Name}' is {actualKind}, the fixture has {kind}");
        }
    }

    [Fact]
    public async Task AlpacaBars_PagesWalkTheWholeFile_AndMatchTheFixtureShape()
    {
        var bars = FileBars();
        await using var server = await SandboxServer.StartAsync(Options(1, new SandboxSeries("IDX", MinuteFile)));
        using var http = Alpaca(server);
        var fixture = JsonDocument.Parse(File.ReadAllText(Fixture("alpaca.data.bars.json"))).RootElement;
        var seen = new List<JsonElement>();
        string? token = null;
        int pages = 0;
        do
        {
            var page = await GetJsonAsync(http, $"/v2/stocks/IDX/bars?timeframe=5Min&start=2006-01-01&end=2006-12-31T00:00:00Z&limit=500&feed=iex{(token is null ? string.Empty : "&page_token=" + Uri.EscapeDataString(token))}");
            AssertSameKinds(fixture, page);
            Assert.Equal("IDX", page.GetProperty("symbol").GetString());
            foreach (var bar in page.GetProperty("bars").EnumerateArray())
            {
                AssertSameKinds(fixture.GetProperty("bars")[0], bar);
                seen.Add(bar);
            }

            token = page.GetProperty("next_page_token").ValueKind == JsonValueKind.Null ? null : page.GetProperty("next_page_token").GetString();
            pages++;
        }
        while (token is not null);

        Assert.Equal(5, pages);
        Assert.Equal(bars.Count, seen.Count);
        for (int i = 0; i < bars.Count; i++)
        {
            Assert.Equal(bars[i].Time.ToString(), seen[i].GetProperty("t").GetString());
            Assert.Equal(bars[i].Open.ToDecimal(), seen[i].GetProperty("o").GetDecimal());
            Assert.Equal(bars[i].High.ToDecimal(), seen[i].GetProperty("h").GetDecimal());
            Assert.Equal(bars[i].Low.ToDecimal(), seen[i].GetProperty("l").GetDecimal());
            Assert.Equal(bars[i].Close.ToDecimal(), seen[i].GetProperty("c").GetDecimal());
            Assert.Equal(bars[i].Volume.ToDecimal(), seen[i].GetProperty("v").GetDecimal());
            Assert.Equal(4, seen[i].GetProperty("n").GetInt32());
        }
    }

    [Fact]
    public async Task AlpacaBars_AggregateToCoarserTimeframes_AndRefuseFinerOnes()
    {
        var bars = FileBars().Where(b => b.Time.UtcDayNumber == FileBars()[0].Time.UtcDayNumber).ToList();
        await using var server = await SandboxServer.StartAsync(Options(1, new SandboxSeries("IDX", MinuteFile)));
        using var http = Alpaca(server);
        var day = await GetJsonAsync(http, "/v2/stocks/IDX/bars?timeframe=1Day&start=2006-01-02&end=2006-01-02T23:59:59Z");
        var bar = Assert.Single(day.GetProperty("bars").EnumerateArray());
        Assert.Equal("2006-01-02T00:00:00Z", bar.GetProperty("t").GetString());
        Assert.Equal(bars[0].Open.ToDecimal(), bar.GetProperty("o").GetDecimal());
        Assert.Equal(bars.Max(b => b.High).ToDecimal(), bar.GetProperty("h").GetDecimal());
        Assert.Equal(bars.Min(b => b.Low).ToDecimal(), bar.GetProperty("l").GetDecimal());
        Assert.Equal(bars[^1].Close.ToDecimal(), bar.GetProperty("c").GetDecimal());
        Assert.Equal(bars.Count * 4, bar.GetProperty("n").GetInt32());

        var finer = await GetJsonAsync(http, "/v2/stocks/IDX/bars?timeframe=1Min", 422);
        Assert.Contains("5Min", finer.GetProperty("message").GetString(), StringComparison.Ordinal);
        await GetJsonAsync(http, "/v2/stocks/IDX/bars?timeframe=7Fortnights", 400);
        await GetJsonAsync(http, "/v2/stocks/IDX/bars?timeframe=5Min&limit=0", 400);
        await GetJsonAsync(http, "/v2/stocks/IDX/bars?timeframe=5Min&start=yesterday", 400);
        await GetJsonAsync(http, "/v2/stocks/IDX/bars?timeframe=5Min&page_token=bm9wZQ==", 400);
    }

    [Fact]
    public async Task AlpacaMultiSymbolBars_LimitAcrossSymbols_AndPageThroughAll()
    {
        using var tmp = new Keel.Tests.Support.TempDir();
        var a = tmp.Write("a.csv", "datetime,open,high,low,close,volume\n2024-01-02 14:30:00,187.15,187.4,186.92,187.01,118265\n2024-01-02 14:31:00,187,188,186,187.5,10\n");
        var b = tmp.Write("b.csv", "datetime,open,high,low,close,volume\n2024-01-02 14:30:00,373.86,374.2,373.1,373.55,40211\n");
        await using var server = await SandboxServer.StartAsync(Options(1, new SandboxSeries("MSFT", b, "1m"), new SandboxSeries("AAPL", a)));
        using var http = Alpaca(server);
        var fixture = JsonDocument.Parse(File.ReadAllText(Fixture("alpaca.data.bars_multi.json"))).RootElement;
        var first = await GetJsonAsync(http, "/v2/stocks/bars?symbols=MSFT,AAPL&timeframe=1Min&start=2024-01-02T00:00:00Z&limit=2");
        AssertSameKinds(fixture, first);
        Assert.Equal(2, first.GetProperty("bars").GetProperty("AAPL").GetArrayLength());
        Assert.False(first.GetProperty("bars").TryGetProperty("MSFT", out _));
        var token = first.GetProperty("next_page_token").GetString();
        var second = await GetJsonAsync(http, $"/v2/stocks/bars?symbols=MSFT,AAPL&timeframe=1Min&start=2024-01-02T00:00:00Z&limit=2&page_token={Uri.EscapeDataString(token!)}");
        var msft = Assert.Single(second.GetProperty("bars").GetProperty("MSFT").EnumerateArray());
        AssertSameKinds(fixture.GetProperty("bars").GetProperty("MSFT")[0], msft);
        Assert.Equal(373.86m, msft.GetProperty("o").GetDecimal());
        Assert.Equal(JsonValueKind.Null, second.GetProperty("next_page_token").ValueKind);
    }

    [Fact]
    public async Task AlpacaRest_RequiresTheKeyHeaders_SendsRateHeaders_AndHonoursThe429Switch()
    {
        await using var server = await SandboxServer.StartAsync(Options(1, new SandboxSeries("IDX", MinuteFile)));
        using (var anonymous = Alpaca(server, auth: false))
        {
            var body = await GetJsonAsync(anonymous, "/v2/stocks/IDX/bars?timeframe=5Min", 401);
            Assert.Equal("unauthorized", body.GetProperty("message").GetString());
        }

        using var http = Alpaca(server);
        server.Faults.RateLimitNext = 1;
        using (var limited = await http.GetAsync("/v2/stocks/IDX/bars?timeframe=5Min&limit=1"))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
            Assert.Equal("too many requests", JsonDocument.Parse(await limited.Content.ReadAsStringAsync()).RootElement.GetProperty("message").GetString());
            Assert.Equal("0", limited.Headers.GetValues("X-Ratelimit-Remaining").Single());
        }

        using var ok = await http.GetAsync("/v2/stocks/IDX/bars?timeframe=5Min&limit=1");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal("200", ok.Headers.GetValues("X-Ratelimit-Limit").Single());
        Assert.True(int.Parse(ok.Headers.GetValues("X-Ratelimit-Remaining").Single(), System.Globalization.CultureInfo.InvariantCulture) < 200);
        Assert.True(long.Parse(ok.Headers.GetValues("X-Ratelimit-Reset").Single(), System.Globalization.CultureInfo.InvariantCulture) > DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 1);
        Assert.Equal(1, server.Stats.Alpaca.RateLimited);
    }

    [Fact]
    public async Task OandaCandles_MatchTheFixtureShape_WithExactPrecisionAndTickVolumes()
    {
        var bars = FileBars();
        var options = Options(1, new SandboxSeries("IDX_USD", MinuteFile));
        options.HalfSpread = 0.005m;
        await using var server = await SandboxServer.StartAsync(options);
        using var http = Oanda(server);
        var fixture = JsonDocument.Parse(File.ReadAllText(Fixture("oanda.candles.json"))).RootElement;
        using var response = await http.GetAsync("/v3/instruments/IDX_USD/candles?granularity=M5&count=5&from=2006-01-02T09:05:00Z");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.Headers.Contains("RequestID"));
        var mid = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        AssertSameKinds(fixture.GetProperty("mid_example"), mid);
        Assert.Equal("M5", mid.GetProperty("granularity").GetString());
        var candles = mid.GetProperty("candles").EnumerateArray().ToList();
        Assert.Equal(5, candles.Count);
        for (int i = 0; i < 5; i++)
        {
            var expected = fixture.GetProperty("mid_example").GetProperty("candles")[0];
            AssertSameKinds(expected, candles[i]);
            AssertSameKinds(expected.GetProperty("mid"), candles[i].GetProperty("mid"));
            Assert.Equal(4, candles[i].GetProperty("volume").GetInt32());
            Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$", candles[i].GetProperty("time").GetString());
            Assert.Equal(bars[i].Time.UnixNanos, Timestamp.Parse(candles[i].GetProperty("time").GetString()!).UnixNanos);
        }

        // Precision: the file has 2 decimals, the half spread 3, so every price string has exactly 3.
        Assert.Equal("3578.730", candles[0].GetProperty("mid").GetProperty("o").GetString());

        var ba = await GetJsonAsync(http, "/v3/instruments/IDX_USD/candles?granularity=M10&count=1&price=BA&from=2006-01-02T09:10:00Z");
        var candle = ba.GetProperty("candles")[0];
        AssertSameKinds(fixture.GetProperty("bid_ask_example").GetProperty("candles")[0], candle);
        Assert.False(candle.TryGetProperty("mid", out _));
        Assert.Equal(8, candle.GetProperty("volume").GetInt32());
        Assert.Equal("3583.005", candle.GetProperty("bid").GetProperty("o").GetString());
        Assert.Equal("3583.015", candle.GetProperty("ask").GetProperty("o").GetString());
        Assert.Equal(bars[2].Close.ToDecimal() + 0.005m, decimal.Parse(candle.GetProperty("ask").GetProperty("c").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task OandaCandles_ValidateLikeTheVenue_AndTheAccountForm_ChecksTheAccount()
    {
        await using var server = await SandboxServer.StartAsync(Options(1, new SandboxSeries("IDX_USD", MinuteFile)));
        using var http = Oanda(server);
        Assert.Equal("Invalid value specified for 'instrument'", (await GetJsonAsync(http, "/v3/instruments/NOPE/candles?granularity=M5", 400)).GetProperty("errorMessage").GetString());
        await GetJsonAsync(http, "/v3/instruments/IDX_USD/candles?granularity=M7", 400);
        await GetJsonAsync(http, "/v3/instruments/IDX_USD/candles?granularity=M1", 400);
        await GetJsonAsync(http, "/v3/instruments/IDX_USD/candles?granularity=M5&count=5001", 400);
        await GetJsonAsync(http, "/v3/instruments/IDX_USD/candles?granularity=M5&price=X", 400);
        await GetJsonAsync(http, "/v3/instruments/IDX_USD/candles?granularity=M5&count=2&from=2006-01-02T00:00:00Z&to=2006-01-03T00:00:00Z", 400);
        var account = await GetJsonAsync(http, "/v3/accounts/101-001-0000001-001/instruments/IDX_USD/candles?granularity=H1&count=2");
        Assert.Equal(2, account.GetProperty("candles").GetArrayLength());
        Assert.Equal(48, account.GetProperty("candles")[0].GetProperty("volume").GetInt32());
        Assert.Equal(28, account.GetProperty("candles")[1].GetProperty("volume").GetInt32()); // 17:00 … 17:30, the file's last hour
        Assert.Equal("Insufficient authorization to perform request.", (await GetJsonAsync(http, "/v3/accounts/001-999/instruments/IDX_USD/candles?granularity=H1", 401)).GetProperty("errorMessage").GetString());
        using var stranger = Oanda(server, "nope");
        Assert.Equal("Insufficient authorization to perform request.", (await GetJsonAsync(stranger, "/v3/instruments/IDX_USD/candles?granularity=M5", 401)).GetProperty("errorMessage").GetString());

        var range = await GetJsonAsync(http, "/v3/instruments/IDX_USD/candles?granularity=M5&from=2006-01-02T09:05:00Z&to=2006-01-02T09:20:00Z&includeFirst=false");
        Assert.Equal(["2006-01-02T09:10:00.000000000Z", "2006-01-02T09:15:00.000000000Z"], range.GetProperty("candles").EnumerateArray().Select(c => c.GetProperty("time").GetString()));

        using var request = new HttpRequestMessage(HttpMethod.Get, "/v3/instruments/IDX_USD/candles?granularity=M5&count=1&from=1136192700");
        request.Headers.Add("Accept-Datetime-Format", "UNIX");
        using var unix = await http.SendAsync(request);
        var unixBody = JsonDocument.Parse(await unix.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("1136192700.000000000", unixBody.GetProperty("candles")[0].GetProperty("time").GetString());

        server.Faults.RateLimitNext = 1;
        Assert.True((await GetJsonAsync(http, "/v3/instruments/IDX_USD/candles?granularity=M5", 429)).TryGetProperty("errorMessage", out _));
    }
}
