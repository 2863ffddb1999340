using BenchmarkDotNet.Running;

if (args.Length > 0 && args[0] == "journal")
{
    return Keel.Benchmarks.JournalThroughput.Run(args[1..]);
}

if (args.Length > 0 && args[0] == "kernel")
{
    return Keel.Benchmarks.KernelPasses.Run(args[1..]);
}

if (args.Length > 0 && args[0] == "parse")
{
    return Keel.Benchmarks.ParsePasses.Run(args[1..]);
}

if (args.Length > 0 && args[0] == "equity")
{
    return Keel.Benchmarks.EquityPasses.Run(args[1..]);
}

if (args.Length > 0 && args[0] == "latency")
{
    return await Keel.Benchmarks.FeedLatency.Run(args[1..]);
}

if (args.Length > 0 && args[0] == "tick-to-order")
{
    return Keel.Benchmarks.TickToOrder.Run(args[1..]);
}

if (args.Length > 0 && args[0] == "before-send")
{
    return await Keel.Benchmarks.JournalBeforeSend.Run(args[1..]);
}

if (args.Length > 0 && args[0] == "serve")
{
    return await Keel.Benchmarks.ServeLoad.Run(args[1..]);
}

if (args.Length > 0 && args[0] == "roundtrip")
{
    return await Keel.Benchmarks.VenueRoundTrip.Run(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(Keel.Benchmarks.KernelBenchmarks).Assembly).Run(args);
return 0;
