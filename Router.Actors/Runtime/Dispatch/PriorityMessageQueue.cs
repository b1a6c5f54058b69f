using System.Collections.Concurrent;
using System.Collections.Immutable;

using Router.Actors.Routing;

namespace Router.Actors.Runtime.Dispatch;

/// <summary>
/// Four lanes indexed by <see cref="Priority"/>, FIFO within a lane. The consumer serves the head
/// with the highest effective level: its lane plus one per aging interval it has waited, capped at
/// <see cref="Priority.Critical"/>; among equal levels the oldest head goes first. So a message
/// that waited long enough competes with the top lane as an equal and, being older, wins: no lane
/// starves however busy the lanes above it are.
/// Producers may be many; the consumer is one at a time (the mailbox run, or a drain under the
/// mailbox's drain lock after it closed).
/// </summary>
internal sealed class PriorityMessageQueue : MessageQueue
{
    private const int LaneCount = 4;
    private const int TopLevel = (int)Priority.Critical;

    private static readonly string[] s_laneNames = ["best-effort", "normal", "high", "critical"];

    private readonly ConcurrentQueue<Item>[] _lanes;
    private readonly int[] _bounds;
    private readonly int[] _depths;   // bounded lanes only, including the held head

    // Consumer-only: the head taken out of each lane but not yet served.
    private readonly Item[] _heads = new Item[LaneCount];
    private readonly bool[] _hasHead = new bool[LaneCount];
    private readonly TimeProvider _time;

    // The system clock is read through Environment.TickCount64 (milliseconds, several times
    // cheaper than a high-resolution timestamp, and aging works in seconds); any other provider
    // (a manual clock) through its own timestamps, so tests and simulations drive aging.
    private readonly bool _useTickCount;

    // Aging interval in the clock's units; 0 = aging off.
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
        _useTickCount = ReferenceEquals(time, TimeProvider.System);
        _agingTicks = aging <= TimeSpan.Zero || aging == Timeout.InfiniteTimeSpan
            ? 0
            : Math.Max(1, _useTickCount ? (long)aging.TotalMilliseconds : (long)(aging.TotalSeconds * time.TimestampFrequency));
    }

    public override string Kind => "priority";

    public override bool HasMessages
    {
        get
        {
            for (int i = 0; i < LaneCount; i++)
            {
                if (_hasHead[i] || !_lanes[i].IsEmpty)
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

        // Bounded lanes reserve a place first, so concurrent producers never overshoot the bound;
        // unbounded lanes skip the shared counter.
        if (bound > 0 && Interlocked.Increment(ref _depths[index]) > bound)
        {
            Interlocked.Decrement(ref _depths[index]);
            return false;
        }

        _lanes[index].Enqueue(new Item(message, sender, _agingTicks == 0 ? 0 : Now()));
        return true;
    }

    public override void EnqueueUnbounded(object message, IActorRef? sender)
    {
        int index = message is IPriorityMessage prioritized && (uint)prioritized.Priority < LaneCount
            ? (int)prioritized.Priority
            : (int)Priority.Normal;
        if (_bounds[index] > 0)
        {
            Interlocked.Increment(ref _depths[index]);
        }

        _lanes[index].Enqueue(new Item(message, sender, _agingTicks == 0 ? 0 : Now()));
    }

    public override bool TryDequeue(out Envelope envelope)
    {
        int chosen = _agingTicks == 0 ? HighestNonEmptyLane() : LaneWithHighestEffectiveLevel();
        if (chosen < 0)
        {
            envelope = default;
            return false;
        }

        Item item = _heads[chosen];
        _heads[chosen] = default;
        _hasHead[chosen] = false;
        if (_bounds[chosen] > 0)
        {
            Interlocked.Decrement(ref _depths[chosen]);
        }

        envelope = new Envelope(item.Message, item.Sender);
        return true;
    }

    public override void AddLaneDepths(ImmutableArray<LaneDepth>.Builder lanes)
    {
        for (int i = TopLevel; i >= 0; i--)
        {
            // Read from another thread: a bounded lane's counter, or the queue's count plus the held head.
            int depth = _bounds[i] > 0 ? Volatile.Read(ref _depths[i]) : _lanes[i].Count + (Volatile.Read(ref _hasHead[i]) ? 1 : 0);
            lanes.Add(new LaneDepth(s_laneNames[i], Math.Max(0, depth)));
        }
    }

    private int HighestNonEmptyLane()
    {
        for (int i = TopLevel; i >= 0; i--)
        {
            if (LoadHead(i))
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
            if (!LoadHead(i))
            {
                continue;
            }

            if (chosen < 0 && !AnyBelow(i))
            {
                // The common case, one busy lane: no clock read needed.
                return i;
            }

            if (!haveNow)
            {
                now = Now();
                haveNow = true;
            }

            long enqueued = _heads[i].Enqueued;
            long waited = now - enqueued;
            int level = waited <= 0 ? i : (int)Math.Min(TopLevel, i + (waited / _agingTicks));
            if (level > chosenLevel || (level == chosenLevel && enqueued < chosenEnqueued))
            {
                chosen = i;
                chosenLevel = level;
                chosenEnqueued = enqueued;
            }
        }

        return chosen;
    }

    private long Now() => _useTickCount ? Environment.TickCount64 : _time.GetTimestamp();

    private bool AnyBelow(int lane)
    {
        for (int i = lane - 1; i >= 0; i--)
        {
            if (_hasHead[i] || !_lanes[i].IsEmpty)
            {
                return true;
            }
        }

        return false;
    }

    // The consumer holds each lane's oldest message once it has looked at it (instead of peeking,
    // which would make the queue keep references to dequeued items); it still counts in the lane's depth.
    private bool LoadHead(int lane)
    {
        if (_hasHead[lane])
        {
            return true;
        }

        if (_lanes[lane].TryDequeue(out _heads[lane]))
        {
            _hasHead[lane] = true;
            return true;
        }

        return false;
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
