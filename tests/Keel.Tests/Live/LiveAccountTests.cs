using Keel.Engine.Persistence;
using Keel.Runtime;
using Keel.Sandbox;
using Keel.Tests.Sandbox;
using Keel.Tests.Support;

namespace Keel.Tests.Live;

/// <summary>
/// One active live run per venue account (seed 002): a second live run on an account another run is trading is refused,
/// naming the run that holds it; once that run stops, the account is free again.
/// </summary>
public sealed class LiveAccountTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task ALiveRun_HoldsItsAccount_ASecondRunIsRefusedUntilItStops()
    {
        var file = LiveRunTests.OrclSince(_dir, 2014);
        var options = new SandboxOptions { Speed = double.PositiveInfinity };
        options.Series.Add(new SandboxSeries("ORCL", file));
        await using var sandbox = await SandboxServer.StartAsync(options);
        var db = _dir.File("keel.db");
        await using var host = new RunHost(LiveRunTests.Services(sandbox));
        RunSpec Spec() => LiveParityTests.Spec(RunMode.Live, db, file, s => s with { Live = s.Live! with { CancelOnStop = true } });

        var first = host.Start(Spec());
        await SandboxTesting.Eventually(() => first.Status == RunStatus.Running && first.FeedTicks > 0 || first.Completion.IsCompleted, "the first run trading", Patience);
        Assert.False(first.Completion.IsCompleted, first.Completion.Exception?.GetBaseException() is Keel.Runtime.Live.ReconciliationException rx ? rx.Report.Render() : first.Completion.Exception?.GetBaseException().Message);

        // The same Alpaca account (key id, address), another run: refused before it trades, naming the holder.
        var second = host.Start(Spec());
        var refused = await Assert.ThrowsAsync<UsageException>(() => second.Completion.WaitAsync(Patience));
        Assert.Contains($"alpaca account of key id sandbox-key at {sandbox.AlpacaRestBase.Authority}", refused.Message, StringComparison.Ordinal);
        Assert.Contains(first.RunId!, refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("sandbox-secret", refused.Message, StringComparison.Ordinal);
        Assert.Equal(RunStatus.Running, first.Status);

        // Stopped with its working orders cancelled (a run that left them would make the next run's start stop on them).
        first.Stop();
        await Task.WhenAny(first.Completion).WaitAsync(Patience);
        Assert.Equal(0, sandbox.AlpacaBook("ORCL").OpenOrders);

        // Free again: a new run takes the account (adopting what the first left there: a position, if it held one).
        var third = host.Start(Spec() with { Live = new LiveSettings { ReconcileSeconds = 1, ResendAfterSeconds = 1, Adopt = true } });
        await SandboxTesting.Eventually(() => third.Status == RunStatus.Running || third.Completion.IsCompleted, "the third run started", Patience);
        Assert.False(third.Completion.IsFaulted, third.Completion.Exception?.GetBaseException().Message);
        third.Stop();
        await Task.WhenAny(third.Completion).WaitAsync(Patience);
        Assert.False(third.Completion.IsFaulted, third.Completion.Exception?.GetBaseException().Message);
    }
}
