namespace Router.Actors.Runtime;

/// <summary>
/// An actor. The runtime creates instances through <see cref="Props"/> (never with <c>new</c>
/// elsewhere), processes one message at a time, and re-creates the instance on restart.
/// </summary>
public abstract class ActorBase
{
    private readonly ActorCell _cell;

    protected ActorBase()
    {
        _cell = ActorCell.Constructing
            ?? throw new InvalidOperationException("Actors are created by the runtime: use ActorOf with Props, not new.");
    }

    protected IActorContext Context => _cell;

    protected IActorRef Self => _cell.Self;

    /// <summary>The sender of the message being processed; <see cref="ActorSystem.DeadLetters"/> when there is none.</summary>
    protected IActorRef Sender => _cell.Sender;

    internal ActorCell Cell => _cell;

    /// <summary>Handles one message; false means unhandled (published as <see cref="UnhandledMessage"/>).</summary>
    protected abstract bool Receive(object message);

    /// <summary>After the instance is created, before its first message.</summary>
    protected virtual void PreStart()
    {
    }

    /// <summary>When the instance ends: on stop (after its children have stopped) and on restart. Awaited.</summary>
    protected virtual ValueTask PostStopAsync() => ValueTask.CompletedTask;

    /// <summary>On the failed instance, before it is replaced. By default stops all children.</summary>
    protected virtual void PreRestart(Exception reason, object? message)
    {
        foreach (IActorRef child in _cell.Children)
        {
            _cell.Stop(child);
        }
    }

    /// <summary>On the new instance after a restart. By default calls <see cref="PreStart"/>.</summary>
    protected virtual void PostRestart(Exception reason) => PreStart();

    /// <summary>How this actor supervises its children; called once per instance. Default: restart, as in Akka.</summary>
    protected virtual SupervisorStrategy SupervisorStrategy() => Runtime.SupervisorStrategy.Default;

    /// <summary>Publishes <paramref name="message"/> on the event stream as an <see cref="UnhandledMessage"/>.</summary>
    protected void Unhandled(object message)
    {
        ArgumentNullException.ThrowIfNull(message);
        _cell.PublishUnhandled(message);
    }

    /// <summary>Runs one message; returns a task only when an async handler is still running.</summary>
    internal virtual Task? AroundReceive(object message)
    {
        if (!Receive(message))
        {
            Unhandled(message);
        }

        return null;
    }

    internal void AroundPreStart() => PreStart();

    internal ValueTask AroundPostStop() => PostStopAsync();

    internal void AroundPreRestart(Exception reason, object? message) => PreRestart(reason, message);

    internal void AroundPostRestart(Exception reason) => PostRestart(reason);

    internal SupervisorStrategy CallSupervisorStrategy() => SupervisorStrategy();
}
