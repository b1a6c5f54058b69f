namespace Router.Actors.Runtime;

/// <summary>An address to send messages to. Safe to share and to use from any thread.</summary>
public interface IActorRef : IEquatable<IActorRef>
{
    ActorPath Path { get; }

    /// <summary>Enqueues the message and returns at once; <paramref name="sender"/> is what the receiver sees as <c>Sender</c>.</summary>
    void Tell(object message, IActorRef? sender = null);
}

/// <summary>What the runtime needs from its own refs beyond the public surface.</summary>
internal interface IInternalActorRef : IActorRef
{
    ActorSystem? System { get; }
}
