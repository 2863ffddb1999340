using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Keel.Benchmarks.KernelBenchmarks).Assembly).Run(args);
