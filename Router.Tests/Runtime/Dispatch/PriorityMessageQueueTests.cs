using System.Collections.Immutable;
using Router.Actors.Routing;
using Router.Actors.Runtime;
using Router.Actors.Runtime.Dispatch;

namespace Router.Tests.Runtime.Dispatch;

public sealed class PriorityMessageQueueTests
{
    private readonly ManualTimeProvider _clock = new();

    [Fact]
    public void TryDequeue_MixedBacklog_HighestLaneFirstFifoWithinLane()
    {
        var queue = new PriorityMessageQueue(new PriorityMailboxOptions(), _clock);
        Enqueue(queue, new Job("be1", Priority.BestEffort), new Job("n1", Priority.Normal), new Job("c1", Priority.Critical),
            new Job("h1", Priority.High), new Job("be2", Priority.BestEffort), new Job("c2", Priority.Critical), "plain", new Job("h2", Priority.High));

        Assert.Equal(["c1", "c2", "h1", "h2", "n1", "plain", "be1", "be2"], DrainNames(queue));
    }

    [Fact]
    public void TryDequeue_BestEffortWaitedOneInterval_ServedAsNormal()
    {
        var queue = new PriorityMessageQueue(new PriorityMailboxOptions { AgingInterval = TimeSpan.FromSeconds(5) }, _clock);
        Enqueue(queue, new Job("be", Priority.BestEffort));
        _clock.Advance(TimeSpan.FromSeconds(5));
        Enqueue(queue, new Job("n", Priority.Normal), new Job("h", Priority.High));

        // "be" now counts as normal and is older than "n"; "h" is still above both.
        Assert.Equal(["h", "be", "n"], DrainNames(queue));
    }

    [Fact]
    public void TryDequeue_BestEffortWaitedThreeIntervals_BeatsFreshCritical()
    {
        var queue = new PriorityMessageQueue(new PriorityMailboxOptions { AgingInterval = TimeSpan.FromSeconds(5) }, _clock);
        Enqueue(queue, new Job("be", Priority.BestEffort));
        _clock.Advance(TimeSpan.FromSeconds(15));
        Enqueue(queue, new Job("c", Priority.Critical));

        Assert.Equal(["be", "c"], DrainNames(queue));
    }

    [Fact]
    public void TryDequeue_AgingOff_StrictPriority()
    {
        var queue = new PriorityMessageQueue(new PriorityMailboxOptions { AgingInterval = TimeSpan.Zero }, _clock);
        Enqueue(queue, new Job("be", Priority.BestEffort));
        _clock.Advance(TimeSpan.FromHours(1));
        Enqueue(queue, new Job("c", Priority.Critical));

        Assert.Equal(["c", "be"], DrainNames(queue));
    }

    [Fact]
    public void TryEnqueue_BoundedLaneFull_RejectsWithLaneAndBound()
    {
        var options = new PriorityMailboxOptions { LaneBounds = [1, 0, 0, 0] };
        var queue = new PriorityMessageQueue(options, _clock);

        Assert.True(queue.TryEnqueue(new Job("be1", Priority.BestEffort), null, out _, out _));
        bool accepted = queue.TryEnqueue(new Job("be2", Priority.BestEffort), null, out Priority lane, out int bound);
        bool otherLane = queue.TryEnqueue(new Job("n", Priority.Normal), null, out _, out _);

        Assert.False(accepted);
        Assert.Equal(Priority.BestEffort, lane);
        Assert.Equal(1, bound);
        Assert.True(otherLane);
        Assert.Equal(["n", "be1"], DrainNames(queue));
    }

    [Fact]
    public void AddLaneDepths_Backlog_ReportsEachLaneTopDown()
    {
        var queue = new PriorityMessageQueue(new PriorityMailboxOptions(), _clock);
        Enqueue(queue, new Job("c", Priority.Critical), new Job("be1", Priority.BestEffort), new Job("be2", Priority.BestEffort));
        var lanes = ImmutableArray.CreateBuilder<LaneDepth>();

        queue.AddLaneDepths(lanes);

        LaneDepth[] expected = [new("critical", 1), new("high", 0), new("normal", 0), new("best-effort", 2)];
        Assert.Equal(expected, lanes.ToArray());
    }

    private static void Enqueue(PriorityMessageQueue queue, params object[] messages)
    {
        foreach (object message in messages)
        {
            Assert.True(queue.TryEnqueue(message, null, out _, out _));
        }
    }

    private static List<string> DrainNames(PriorityMessageQueue queue)
    {
        var names = new List<string>();
        while (queue.TryDequeue(out Envelope envelope))
        {
            names.Add(envelope.Message is Job job ? job.Name : (string)envelope.Message);
        }

        Assert.False(queue.HasMessages);
        return names;
    }

    private sealed record Job(string Name, Priority Priority) : IPriorityMessage;
}
