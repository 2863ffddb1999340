using Keel.Domain;
using Keel.Domain.Orders;
using Keel.Runtime;
using Keel.Sandbox;

namespace Keel.Tests.Live;

/// <summary>
/// Drives a lockstep sandbox (<see cref="SandboxOptions.Lockstep"/>) one replayed event at a time and, after each, waits
/// until the run has taken everything the event caused: the ticks its feed delivered, the orders the strategy placed on
/// them answered by the venue, the fills the event made booked. Nothing moves at the venue between steps, so a run on
/// the sandbox sees the same market in the same order as a backtest does: its orders are deterministic.
/// </summary>
internal sealed class Lockstep(SandboxServer sandbox, RunHandle run, bool venue, string symbol, TimeSpan patience)
{
    private long _ticks;

    /// <summary>Runs before each step (a chaos test switches faults on and off here).</summary>
    public Func<int, Task>? BeforeStep { get; init; }

    /// <summary>The venue's book (position, open orders) in the symbol, read in process; Alpaca's unless set.</summary>
    public Func<string, (Quantity Position, int OpenOrders)>? VenueBook { get; init; }

    /// <summary>Events stepped so far.</summary>
    public int Steps { get; private set; }

    /// <summary>Steps through the whole replay; returns the number of events published.</summary>
    public async Task<int> RunToEndAsync()
    {
        // The run subscribes to the feed when it starts; the replay starts on that subscription.
        await WaitFor(() => sandbox.Stats.Alpaca.Authenticated + sandbox.Stats.Oanda.ConnectionsAccepted > 0, () => "the run's feed connected");
        while (true)
        {
            var step = await TryStepAsync();
            if (step is null)
            {
                return Steps;
            }
        }
    }

    /// <summary>One event; null when the replay has ended.</summary>
    public async Task<SandboxStep?> TryStepAsync()
    {
        // A tick fills at the venue first: wait for those fills to be booked before the tick reaches the strategy, as the
        // simulated exchange books its fills before the strategy sees the tick.
        if (BeforeStep is not null)
        {
            await BeforeStep(Steps);
        }

        SandboxStep? step = null;
        for (int attempt = 0; step is null; attempt++)
        {
            step = await sandbox.StepAsync(_ => SettledAsync());
            if (step is null)
            {
                // Not started yet (the subscription is on its way) or ended.
                if (Steps > 0 || attempt > 200)
                {
                    return null;
                }

                await Task.Delay(10);
            }
        }

        Steps++;
        if (step.IsTick)
        {
            _ticks += step.Messages;
        }

        await WaitFor(() => run.FeedTicks >= _ticks, () => $"the run to take the {_ticks} ticks of {Steps} steps (it has {run.FeedTicks})");
        await SettledAsync();
        return step;
    }

    private async Task WaitFor(Func<bool> condition, Func<string> what)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (run.Completion.IsCompleted)
            {
                throw new InvalidOperationException($"the run ended ({run.Status}) while waiting for {what()}", run.Completion.Exception?.GetBaseException());
            }

            if (clock.Elapsed > patience)
            {
                throw new TimeoutException($"timed out waiting for {what()}");
            }

            await Task.Delay(1);
        }
    }

    /// <summary>Waits until no order of the run is waiting for the venue and the run's book is the venue's.</summary>
    public async Task SettledAsync()
    {
        using var timeout = new CancellationTokenSource(patience);
        string last = "";
        try
        {
            await SettleAsync(reason => last = reason, timeout.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new TimeoutException($"after step {Steps} the run did not settle within {patience}: {last}");
        }
    }

    private async Task SettleAsync(Action<string> why, CancellationToken ct)
    {
        string last;
        while (true)
        {
            var (waiting, position, open) = await run.QueryAsync(k => (
                k.OpenOrders.Count(o => o.Status is OrderStatus.Submitted or OrderStatus.Unknown or OrderStatus.PendingCancel),
                k.Position(new InstrumentId(symbol)),
                k.OpenOrders.Count), ct);
            if (waiting == 0)
            {
                if (!venue)
                {
                    return;
                }

                var (venuePosition, venueOpen) = (VenueBook ?? sandbox.AlpacaBook)(symbol);
                if (venuePosition == position && venueOpen == open)
                {
                    return;
                }

                last = $"position {position} against the venue's {venuePosition}, {open} open orders against {venueOpen}";
            }
            else
            {
                last = $"{waiting} orders waiting for the venue";
            }

            why(last);
            await Task.Delay(2, ct);
        }
    }
}
