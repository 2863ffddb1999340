using Keel.Domain;
using Keel.Domain.Events;
using Keel.Domain.Orders;
using Keel.Engine.Kernel;
using Keel.Engine.Persistence;
using Keel.Runtime.Sessions;

namespace Keel.Tests.Runtime;

/// <summary>The recorder copies an order's record when its batch is handed over, once per batch: what it writes.</summary>
public class JournalRecorderTests
{
    private static readonly InstrumentId Aapl = new("AAPL");
    private static readonly Timestamp T0 = Timestamp.Parse("2024-01-02T14:30:00Z");

    private static Order NewOrder(string id) =>
        new(new ClientOrderId(id), OrderRequest.Limit(Aapl, OrderSide.Buy, Quantity.From(10), Price.Parse("150")), T0, number: long.Parse(id[2..], System.Globalization.CultureInfo.InvariantCulture));

    private static void Change(JournalRecorder recorder, Order order, OrderEvent e, long sequence)
    {
        order.Apply(e);
        recorder.Handle(new OrderUpdate(order, e), sequence);
    }

    [Fact]
    public void AnOrderChangedSeveralTimesInABatch_IsWrittenOnce_InItsLastState_WithItsLastSequence()
    {
        var journal = new CapturingJournal(releases: false);
        var a = NewOrder("O-1");
        var b = NewOrder("O-2");
        using (var recorder = new JournalRecorder(journal, "run-r"))
        {
            Change(recorder, a, new OrderSubmitted(a.Id, T0, T0), 1);
            Change(recorder, b, new OrderSubmitted(b.Id, T0, T0), 2);
            Change(recorder, a, new OrderAccepted(a.Id, new VenueOrderId("V1"), T0, T0), 3);
            recorder.Flush();

            // After the hand-over the order changes again: the written batch keeps the state it was handed with.
            Change(recorder, a, new OrderCanceled(a.Id, "user", T0, T0), 4);
            recorder.Flush();
        }

        Assert.Equal(2, journal.Batches.Count);
        var first = journal.Batches[0];
        Assert.Equal([1L, 2, 3], first.Events.Select(e => e.Sequence));
        Assert.Equal(["O-1", "O-2"], first.Orders.Select(o => o.Id.Value));
        Assert.Equal((OrderStatus.Accepted, 3L), (first.Orders[0].Status, first.Orders[0].Sequence));
        Assert.Equal((OrderStatus.Submitted, 2L), (first.Orders[1].Status, first.Orders[1].Sequence));
        Assert.Equal("V1", first.Orders[0].VenueOrderId?.Value);
        var second = Assert.Single(journal.Batches[1].Orders);
        Assert.Equal((OrderStatus.Canceled, 4L), (second.Status, second.Sequence));
    }

    [Fact]
    public void AfterSuspend_TheOrdersOfTheOpenBatch_KeepTheStateTheyHadWhenRecordingStopped()
    {
        var journal = new CapturingJournal(releases: false);
        var a = NewOrder("O-1");
        using (var recorder = new JournalRecorder(journal, "run-s"))
        {
            Change(recorder, a, new OrderSubmitted(a.Id, T0, T0), 1);
            recorder.Suspend();

            // The kernel stops after the snapshot and cancels: not journaled, so the record must not show it.
            Change(recorder, a, new OrderCanceled(a.Id, "stop", T0, T0), 2);
            recorder.Flush();
        }

        var order = Assert.Single(Assert.Single(journal.Batches).Orders);
        Assert.Equal((OrderStatus.Submitted, 1L), (order.Status, order.Sequence));
        Assert.Single(journal.Batches[0].Events);
    }

    [Fact]
    public void ABatch_IsReused_OnlyWhenTheJournalReleasesIt()
    {
        var keeping = new CapturingJournal(releases: false);
        var releasing = new CapturingJournal(releases: true);
        foreach (var journal in new[] { keeping, releasing })
        {
            using var recorder = new JournalRecorder(journal, "run-u", batchSize: 1);
            for (int i = 1; i <= 4; i++)
            {
                var o = NewOrder($"O-{i}");
                Change(recorder, o, new OrderSubmitted(o.Id, T0, T0), i);
                recorder.Flush();
            }
        }

        // A journal that keeps its batches gets four distinct ones, each still holding what was written in it.
        Assert.Equal(4, keeping.Batches.Distinct().Count());
        Assert.Equal(["O-1", "O-2", "O-3", "O-4"], keeping.Batches.Select(b => Assert.Single(b.Orders).Id.Value));

        // One that releases them sees the same records, in fewer batch objects.
        Assert.Equal(["O-1", "O-2", "O-3", "O-4"], releasing.Written);
        Assert.True(releasing.Batches.Distinct().Count() < 4);
    }

    private sealed class CapturingJournal(bool releases) : IRunJournal
    {
        public List<JournalBatch> Batches { get; } = [];

        public List<string> Written { get; } = [];

        public string Describe => "capture";

        public bool ReleasesBatches => releases;

        public void Write(JournalBatch batch)
        {
            Batches.Add(batch);
            Written.AddRange(batch.Orders.Select(o => o.Id.Value));
        }
    }
}
