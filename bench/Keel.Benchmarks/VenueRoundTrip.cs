using System.Diagnostics;
using System.Globalization;
using Keel.Domain;
using Keel.Domain.Events;
using Keel.Domain.Orders;
using Keel.Engine.Ports;
using Keel.Engine.Simulation;
using Keel.Sandbox;
using Keel.Venues.Alpaca.Trading;
using Keel.Venues.Oanda.Trading;

namespace Keel.Benchmarks;

/// <summary>
/// Submit → accepted round trip through the venue port against the sandbox over loopback: the time from
/// <c>SubmitAsync</c> to its typed outcome (the HTTP answer), and to the order's <c>OrderAccepted</c> event arriving on
/// the stream. Each order is a limit far from the market (it rests), cancelled after it was accepted so the book stays
/// small; one order at a time. Usage:
///   dotnet run -c Release --project bench/Keel.Benchmarks -- roundtrip [--venue alpaca|oanda|simulated] [--orders 2000] [--warmup 200]
/// </summary>
public static class VenueRoundTrip
{
    public static async Task<int> Run(string[] args)
    {
        string venueName = Arg(args, "--venue") ?? "alpaca";
        int orders = int.Parse(Arg(args, "--orders") ?? "2000", CultureInfo.InvariantCulture);
        int warmup = int.Parse(Arg(args, "--warmup") ?? "200", CultureInfo.InvariantCulture);
        var options = new SandboxOptions { Speed = double.PositiveInfinity, HalfSpread = 0.0001m };
        options.OandaInstruments.Add("EUR_USD");
        await using var sandbox = await SandboxServer.StartAsync(options);
        using var control = new HttpClient();
        var (venue, instrument, price, limit, units) = venueName switch
        {
            "alpaca" => ((IVenuePort)new AlpacaTradingVenue(new AlpacaTradingOptions
            {
                Key = "sandbox-key",
                Secret = "sandbox-secret",
                BaseUrl = sandbox.AlpacaRestBase,
                StreamUrl = new Uri(sandbox.AlpacaStreamBase, "/stream"),
                CatchUpInterval = TimeSpan.Zero,
            }), new InstrumentId("AAPL"), "100", 50m, 1m),
            "oanda" => (new OandaTradingVenue(new OandaTradingOptions
            {
                Token = "sandbox-token",
                Account = "101-001-0000001-001",
                RestUrl = sandbox.OandaRestBase,
                StreamUrl = sandbox.OandaStreamBase,
                CatchUpInterval = TimeSpan.FromHours(1),
            }), new InstrumentId("EUR_USD"), "1.10000", 1.0m, 1_000m),
            "simulated" => (new SimulatedVenue([new Instrument(new InstrumentId("AAPL"), AssetClass.Equity, Price.From(0.01m), Quantity.From(1), "USD")], Money.From(100_000)),
                new InstrumentId("AAPL"), "100", 50m, 1m),
            _ => throw new ArgumentException($"unknown venue {venueName}; use alpaca, oanda or simulated"),
        };

        if (venue is SimulatedVenue sim)
        {
            sim.OnTick(Tick.Quote(instrument, Timestamp.Epoch, Price.From(99.99m), Price.From(100.01m)));
        }
        else if (venueName == "alpaca")
        {
            await Post(control, new Uri(sandbox.AlpacaRestBase, "/_sandbox/alpaca/prices"), $"{{\"symbol\":\"AAPL\",\"prices\":[\"{price}\"]}}");
        }
        else
        {
            await Post(control, new Uri(sandbox.OandaRestBase, "/_sandbox/oanda/prices"), $"{{\"instrument\":\"EUR_USD\",\"prices\":[\"{price}\"]}}");
        }

        var sink = new AcceptedSink();
        await venue.ConnectAsync(sink);
        var answer = new List<double>(orders);
        var streamed = new List<double>(orders);
        for (int i = 0; i < warmup + orders; i++)
        {
            var id = ClientOrderId.Create("rt-", i);
            var order = new SubmitOrder(id, instrument, OrderSide.Buy, OrderType.Limit, Quantity.From(units), Price.From(limit), null, TimeInForce.Gtc, ContingencyType.None, null, [], Timestamp.Epoch);
            var accepted = sink.Expect(id);
            long start = Stopwatch.GetTimestamp();
            var outcome = await venue.SubmitAsync(order);
            double answered = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            if (!outcome.IsAccepted)
            {
                Console.Error.WriteLine($"order {i}: {outcome.Kind} {outcome.Reason}");
                return 1;
            }

            await accepted.WaitAsync(TimeSpan.FromSeconds(10));
            double onStream = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            if (i >= warmup)
            {
                answer.Add(answered);
                streamed.Add(onStream);
            }

            await venue.CancelAsync(new CancelOrder(id, instrument, Timestamp.Epoch));
        }

        await venue.DisposeAsync();
        Console.WriteLine($"venue={venueName} orders={orders} (after {warmup} warm-up), one at a time, loopback");
        Console.WriteLine($"submit → answer (typed outcome):   p50 {P(answer, 0.50)} µs   p99 {P(answer, 0.99)} µs   max {answer.Max():0} µs");
        Console.WriteLine($"submit → accepted event on stream: p50 {P(streamed, 0.50)} µs   p99 {P(streamed, 0.99)} µs   max {streamed.Max():0} µs");
        return 0;
    }

    private static string P(List<double> values, double q)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)].ToString("0", CultureInfo.InvariantCulture);
    }

    private static async Task Post(HttpClient http, Uri url, string body)
    {
        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(url, content);
        response.EnsureSuccessStatusCode();
    }

    private static string? Arg(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private sealed class AcceptedSink : IOrderEventSink
    {
        private readonly Lock _gate = new();
        private readonly Dictionary<ClientOrderId, TaskCompletionSource> _waiting = [];

        public Task Expect(ClientOrderId id)
        {
            var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_gate)
            {
                _waiting[id] = tcs;
            }

            return tcs.Task;
        }

        public void OnOrderEvent(OrderEvent orderEvent)
        {
            if (orderEvent is not OrderAccepted)
            {
                return;
            }

            TaskCompletionSource? tcs;
            lock (_gate)
            {
                _waiting.Remove(orderEvent.ClientOrderId, out tcs);
            }

            tcs?.TrySetResult();
        }
    }
}
