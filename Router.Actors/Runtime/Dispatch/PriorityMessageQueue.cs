using System.Collections.Concurrent;
using System.Collections.Immutable;

namespace Router.Actors.Runtime.Dispatch;

/// <summary>
/// Four lanes indexed by <see cref="Priority"/>, FIFO within a lane. The consumer serves the head
/// with the highest effective level: its lane plus one per aging interval it has waited, capped at
/// <see cref="Priority.Critical"/>; among equal levels the oldest head goes first. So a message
/// that waited long enough competes with the top lane as an equal and, being older, wins: no lane
/// starves however busy the lanes above it are.
/// </summary>
internal sealed class PriorityMessageQueue : MessageQueue
{
    private const int LaneCount = 4;
    private const int TopLevel = (int)Priority.Critical;

    private static readonly string[] s_laneNames = ["best-effort", "normal", "high", "critical"];

    private readonly ConcurrentQueue<Item>[] _lanes;
    private readonly int[] _bounds;
    private readonly int[] _depths;
    private readonly TimeProvider _time;

    // Aging interval in TimeProvider timestamp units; 0 = aging off.
    private readonly long _agingTicks;

    public PriorityMessageQueue(PriorityMailboxOptions options, TimeProvider time)
    {
        _time = time;
        _lanes = new ConcurrentQueue<Item>[LaneCount];
        _bounds = new int[LaneCount];
        _depths = new int[LaneCount];
        for (int i = 0; i < LaneCount; i++)
        {
            _lanes[i] = new ConcurrentQueue<Item>();
            _bounds[i] = options.BoundOf((Priority)i);
        }

        TimeSpan aging = options.AgingInterval;
        _agingTicks = aging <= TimeSpan.Zero || aging == Timeout.InfiniteTimeSpan
            ? 0
            : Math.Max(1, (long)(aging.TotalSeconds * time.TimestampFrequency));
    }

    public override string Kind => "priority";

    public override bool HasMessages
    {
        get
        {
            for (int i = 0; i < LaneCount; i++)
            {
                if (Volatile.Read(ref _depths[i]) > 0)
                {
                    return true;
                }
            }

            return false;
        }
    }

    public override bool TryEnqueue(object message, IActorRef? sender, out Priority lane, out int bound)
    {
        lane = message is IPriorityMessage prioritized ? prioritized.Priority : Priority.Normal;
        int index = (int)lane;
        if ((uint)index >= LaneCount)
        {
            index = (int)Priority.Normal;
            lane = Priority.Normal;
        }

        bound = _bounds[index];

        // Reserve a place first so concurrent producers can never overshoot the bound.
        int depth = Interlocked.Increment(ref _depths[index]);
        if (bound > 0 && depth > bound)
        {
            Interlocked.Decrement(ref _depths[index]);
            return false;
        }

        _lanes[index].Enqueue(new Item(message, sender, _time.GetTimestamp()));
        return true;
    }

    public override void EnqueueUnbounded(object message, IActorRef? sender)
    {
        int index = message is IPriorityMessage prioritized && (uint)prioritized.Priority < LaneCount
            ? (int)prioritized.Priority
            : (int)Priority.Normal;
        Interlocked.Increment(ref _depths[index]);
        _lanes[index].Enqueue(new Item(message, sender, _time.GetTimestamp()));
    }

    public override bool TryDequeue(out Envelope envelope)
    {
        int chosen = _agingTicks == 0 ? HighestNonEmptyLane() : LaneWithHighestEffectiveLevel();
        if (chosen < 0 || !_lanes[chosen].TryDequeue(out Item item))
        {
            envelope = default;
            return false;
        }

        Interlocked.Decrement(ref _depths[chosen]);
        envelope = new Envelope(item.Message, item.Sender);
        return true;
    }

    public override void AddLaneDepths(ImmutableArray<LaneDepth>.Builder lanes)
    {
        for (int i = TopLevel; i >= 0; i--)
        {
            lanes.Add(new LaneDepth(s_laneNames[i], Math.Max(0, Volatile.Read(ref _depths[i]))));
        }
    }

    private int HighestNonEmptyLane()
    {
        for (int i = TopLevel; i >= 0; i--)
        {
            if (!_lanes[i].IsEmpty)
            {
                return i;
            }
        }

        return -1;
    }

    private int LaneWithHighestEffectiveLevel()
    {
        int chosen = -1;
        int chosenLevel = -1;
        long chosenEnqueued = 0;
        long now = 0;
        bool haveNow = false;
        for (int i = TopLevel; i >= 0; i--)
        {
            if (!_lanes[i].TryPeek(out Item head))
            {
                continue;
            }

            if (chosen < 0 && IsOnlyNonEmptyBelow(i))
            {
                // The common case, one busy lane: no clock read needed.
                return i;
            }

            if (!haveNow)
            {
                now = _time.GetTimestamp();
                haveNow = true;
            }

            long waited = now - head.Enqueued;
            int level = waited <= 0 ? i : (int)Math.Min(TopLevel, i + (waited / _agingTicks));
            if (level > chosenLevel || (level == chosenLevel && head.Enqueued < chosenEnqueued))
            {
                chosen = i;
                chosenLevel = level;
                chosenEnqueued = head.Enqueued;
            }
        }

        return chosen;
    }

    private bool IsOnlyNonEmptyBelow(int lane)
    {
        for (int i = lane - 1; i >= 0; i--)
        {
            if (!_lanes[i].IsEmpty)
            {
                return false;
            }
        }

        return true;
    }

    private readonly struct Item
    {
        public Item(object message, IActorRef? sender, long enqueued)
        {
            Message = message;
            Sender = sender;
            Enqueued = enqueued;
        }

        public object Message { get; }

        public IActorRef? Sender { get; }

        public long Enqueued { get; }
    }
}
