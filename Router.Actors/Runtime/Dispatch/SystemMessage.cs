namespace Router.Actors.Runtime.Dispatch;

/// <summary>Lifecycle, supervision and death-watch traffic; drained before any user message.</summary>
internal abstract class SystemMessage
{
}

/// <summary>Build the first instance and run <c>PreStart</c>.</summary>
internal sealed class Create : SystemMessage
{
    public static readonly Create Instance = new();
}

/// <summary>Stop: children first, then <c>PostStopAsync</c>, then watchers and parent are told.</summary>
internal sealed class Terminate : SystemMessage
{
    public static readonly Terminate Instance = new();
}

/// <summary>The supervisor's Resume: carry on with the same instance.</summary>
internal sealed class Resume : SystemMessage
{
    public static readonly Resume Instance = new();
}

/// <summary>The supervisor's Restart: a fresh instance from Props, same mailbox.</summary>
internal sealed class Recreate(Exception cause) : SystemMessage
{
    public Exception Cause { get; } = cause;
}

/// <summary>A child failed and waits, suspended, for its parent's directive.</summary>
internal sealed class Failed(ActorCell child, Exception cause, object? message) : SystemMessage
{
    public ActorCell Child { get; } = child;

    public Exception Cause { get; } = cause;

    public object? Message { get; } = message;
}

/// <summary>Sent to the watchee: add <see cref="Watcher"/> to the actors told when it stops.</summary>
internal sealed class Watch(ActorCell watcher) : SystemMessage
{
    public ActorCell Watcher { get; } = watcher;
}

/// <summary>Sent to the watchee: forget <see cref="Watcher"/>.</summary>
internal sealed class Unwatch(ActorCell watcher) : SystemMessage
{
    public ActorCell Watcher { get; } = watcher;
}

/// <summary>Sent to watchers and to the parent once an actor has stopped.</summary>
internal sealed class DeathWatchNotification(LocalActorRef actor) : SystemMessage
{
    public LocalActorRef Actor { get; } = actor;
}
