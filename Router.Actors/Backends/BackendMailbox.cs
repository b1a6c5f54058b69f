using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Dispatch;
using Akka.Dispatch.MessageQueues;
using Router.Actors.Routing;
using AkkaConfig = Akka.Configuration.Config;

namespace Router.Actors.Backends;

/// <summary>
/// The backend actors' mailbox: control messages first (releases, cancellations, probes, snapshot
/// requests: each frees or reports capacity the waiting requests need), then admission tickets by
/// request priority, critical first; first in, first out within a level. Ordering here only
/// decides which message the actor looks at next; the order of service for waiting requests,
/// aging included, is the actor's own queue (<see cref="BackendActor"/>), one rule in one place.
/// Declared in HOCON as <see cref="ConfigPath"/> and attached with <c>Props.WithMailbox</c>.
/// </summary>
/// <remarks>
/// Akka's <c>UnboundedStablePriorityMailbox</c> gives the same order with a locked heap, at about
/// 1.4 µs a message here (<c>scripts/bench-actors</c>); with five fixed levels a lock-free queue per
/// level does it in a fraction of that, and every request passes two or three messages through it.
/// </remarks>
public sealed class BackendMailbox : MailboxType, IProducesMessageQueue<BackendMessageQueue>
{
    /// <summary>The mailbox's id in the actor system's configuration.</summary>
    public const string ConfigPath = "ollama-proxy.backend-mailbox";

    /// <summary>Levels, lowest first: control, then critical, high, normal, best effort.</summary>
    internal const int ControlLevel = 0;
    internal const int Levels = 5;

    public BackendMailbox(Settings settings, AkkaConfig config)
        : base(settings, config)
    {
    }

    public override IMessageQueue Create(IActorRef owner, ActorSystem system) => new BackendMessageQueue();

    /// <summary>The level a message is served at (lower first).</summary>
    internal static int Level(object message) => message is SlotTicket ticket
        ? ControlLevel + 1 + ((int)Priority.Critical - (int)ticket.Priority)
        : ControlLevel;
}

/// <summary>One lock-free FIFO per level of <see cref="BackendMailbox"/>; the reader takes from the lowest non-empty one.</summary>
public sealed class BackendMessageQueue : IMessageQueue, IUnboundedMessageQueueSemantics
{
    private readonly ConcurrentQueue<Envelope>[] _levels =
        [new(), new(), new(), new(), new()];

    public bool HasMessages
    {
        get
        {
            foreach (var level in _levels)
            {
                if (!level.IsEmpty)
                {
                    return true;
                }
            }

            return false;
        }
    }

    public int Count
    {
        get
        {
            var count = 0;
            foreach (var level in _levels)
            {
                count += level.Count;
            }

            return count;
        }
    }

    public void Enqueue(IActorRef receiver, Envelope envelope) =>
        _levels[BackendMailbox.Level(envelope.Message)].Enqueue(envelope);

    public bool TryDequeue(out Envelope envelope)
    {
        foreach (var level in _levels)
        {
            if (level.TryDequeue(out envelope))
            {
                return true;
            }
        }

        envelope = default;
        return false;
    }

    public void CleanUp(IActorRef owner, IMessageQueue deadletters)
    {
        ArgumentNullException.ThrowIfNull(deadletters);
        while (TryDequeue(out var envelope))
        {
            deadletters.Enqueue(owner, envelope);
        }
    }
}
