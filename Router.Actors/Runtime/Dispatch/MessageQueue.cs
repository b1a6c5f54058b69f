using System.Collections.Immutable;

using Router.Actors.Routing;

namespace Router.Actors.Runtime.Dispatch;

/// <summary>
/// Storage for user messages: many producers, one consumer (the mailbox run that holds the
/// scheduled bit). Knows nothing of threads or scheduling; the <see cref="Mailbox"/> decides when to run.
/// </summary>
internal abstract class MessageQueue
{
    /// <summary>"fifo" or "priority", as shown by inspection.</summary>
    public abstract string Kind { get; }

    public abstract bool HasMessages { get; }

    /// <summary>Enqueues unless the message's lane is bounded and full; then returns false with the lane and its bound.</summary>
    public abstract bool TryEnqueue(object message, IActorRef? sender, out Priority lane, out int bound);

    /// <summary>Enqueues ignoring bounds; for messages the runtime itself generates (<see cref="Terminated"/>).</summary>
    public abstract void EnqueueUnbounded(object message, IActorRef? sender);

    /// <summary>Single consumer only.</summary>
    public abstract bool TryDequeue(out Envelope envelope);

    /// <summary>Appends the user lanes' depths, in inspection order.</summary>
    public abstract void AddLaneDepths(ImmutableArray<LaneDepth>.Builder lanes);

    public static MessageQueue Create(MailboxOptions options, TimeProvider time) => options switch
    {
        PriorityMailboxOptions priority => new PriorityMessageQueue(priority, time),
        _ => new FifoMessageQueue(),
    };
}
