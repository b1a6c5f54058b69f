namespace Router.Actors.Runtime;

/// <summary>The one ref of an actor cell; survives restarts, equal only to itself.</summary>
internal sealed class LocalActorRef : IInternalActorRef
{
    internal LocalActorRef(ActorCell cell, ActorPath path)
    {
        Cell = cell;
        Path = path;
    }

    public ActorPath Path { get; }

    public ActorSystem System => Cell.System;

    internal ActorCell Cell { get; }

    public void Tell(object message, IActorRef? sender = null)
    {
        if (message is null)
        {
            ThrowHelper.ThrowMessageNull();
        }

        Cell.Mailbox.Post(message, sender);
    }

    public bool Equals(IActorRef? other) => ReferenceEquals(this, other);

    public override bool Equals(object? obj) => ReferenceEquals(this, obj);

    public override int GetHashCode() => global::System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(this);

    public override string ToString() => Path.ToString();
}
