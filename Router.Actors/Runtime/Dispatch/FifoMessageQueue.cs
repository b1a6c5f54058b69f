using System.Collections.Concurrent;
using System.Collections.Immutable;

using Router.Actors.Routing;

namespace Router.Actors.Runtime.Dispatch;

/// <summary>One unbounded lane. <see cref="ConcurrentQueue{T}"/> allocates per segment, never per message.</summary>
internal sealed class FifoMessageQueue : MessageQueue
{
    private readonly ConcurrentQueue<Envelope> _queue = new();

    public override string Kind => "fifo";

    public override bool HasMessages => !_queue.IsEmpty;

    public override bool TryEnqueue(object message, IActorRef? sender, out Priority lane, out int bound)
    {
        _queue.Enqueue(new Envelope(message, sender));
        lane = Priority.Normal;
        bound = 0;
        return true;
    }

    public override void EnqueueUnbounded(object message, IActorRef? sender) => _queue.Enqueue(new Envelope(message, sender));

    public override bool TryDequeue(out Envelope envelope) => _queue.TryDequeue(out envelope);

    public override void AddLaneDepths(ImmutableArray<LaneDepth>.Builder lanes) => lanes.Add(new LaneDepth("user", _queue.Count));
}
