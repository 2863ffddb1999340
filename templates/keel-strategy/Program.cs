using Keel.Cli;
using KeelStrategy;

// Keel's whole command line, with your strategies added to its catalog: `dotnet run -- strategies` lists them, and
// `dotnet run -- backtest --data prices.csv --strategy buy-the-dip --out results` runs one exactly as `keel` would.
return await KeelApp.RunAsync(args, [BuyTheDip.Descriptor]);
