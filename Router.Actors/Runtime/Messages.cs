namespace Router.Actors.Runtime;

/// <summary>Death watch: the watched actor has stopped. Delivered exactly once per watch.</summary>
public sealed record Terminated(IActorRef Actor);

/// <summary>Stops the receiving actor when it is processed, after the messages queued before it.</summary>
public sealed class PoisonPill
{
    public static readonly PoisonPill Instance = new();

    private PoisonPill()
    {
    }

    public override string ToString() => nameof(PoisonPill);
}

/// <summary>Replies that carry an outcome; <see cref="ActorRefExtensions.Ask{T}"/> turns a failure into its exception.</summary>
public static class Status
{
    public sealed record Failure(Exception Cause);

    public sealed record Success(object? Value);
}

/// <summary>A message that could not be delivered (the recipient had stopped, or was the dead-letter ref). Published on the event stream.</summary>
public sealed record DeadLetter(object Message, IActorRef? Sender, IActorRef Recipient);

/// <summary>A message no handler accepted. Published on the event stream.</summary>
public sealed record UnhandledMessage(object Message, IActorRef? Sender, IActorRef Recipient);

/// <summary>
/// An actor failed: a handler threw, or a lifecycle hook did. Published on the event stream (the
/// runtime has no logger of its own; a host subscribes and logs), and kept for inspection.
/// </summary>
public sealed record ActorFailed(IActorRef Actor, Exception Cause, object? Message);
