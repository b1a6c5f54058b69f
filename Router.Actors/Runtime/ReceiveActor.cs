namespace Router.Actors.Runtime;

/// <summary>
/// An actor whose handlers are registered in its constructor. A message goes to the first handler,
/// in registration order, whose type (and predicate) matches; none matching means unhandled.
/// </summary>
public abstract class ReceiveActor : ActorBase
{
    private readonly List<Handler> _handlers = [];
    private Handler[] _frozen = [];

    protected void Receive<T>(Action<T> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        Add(new SyncHandler<T>(null, handler));
    }

    protected void Receive<T>(Func<T, bool> predicate, Action<T> handler)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        ArgumentNullException.ThrowIfNull(handler);
        Add(new SyncHandler<T>(predicate, handler));
    }

    /// <summary>
    /// An async handler. The actor stays on this message until the task completes: nothing else
    /// (not even a system message) runs meanwhile. A task that is already complete costs nothing extra.
    /// </summary>
    protected void ReceiveAsync<T>(Func<T, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        Add(new AsyncHandler<T>(handler));
    }

    protected void ReceiveAny(Action<object> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        Add(new SyncHandler<object>(null, handler));
    }

    // The runtime calls AroundReceive, which keeps an async handler's task; this override exists
    // only to satisfy ActorBase and is sealed so no subclass can bypass the registered handlers.
    protected sealed override bool Receive(object message) => Dispatch(message, out _);

    internal sealed override Task? AroundReceive(object message)
    {
        if (!Dispatch(message, out Task? pending))
        {
            Unhandled(message);
        }

        return pending;
    }

    private bool Dispatch(object message, out Task? pending)
    {
        Handler[] handlers = _frozen;
        for (int i = 0; i < handlers.Length; i++)
        {
            if (handlers[i].TryInvoke(message, out pending))
            {
                return true;
            }
        }

        pending = null;
        return false;
    }

    private void Add(Handler handler)
    {
        _handlers.Add(handler);
        _frozen = [.. _handlers];
    }

    private abstract class Handler
    {
        public abstract bool TryInvoke(object message, out Task? pending);
    }

    private sealed class SyncHandler<T>(Func<T, bool>? predicate, Action<T> action) : Handler
    {
        public override bool TryInvoke(object message, out Task? pending)
        {
            pending = null;
            if (message is T typed && (predicate is null || predicate(typed)))
            {
                action(typed);
                return true;
            }

            return false;
        }
    }

    private sealed class AsyncHandler<T>(Func<T, Task> action) : Handler
    {
        public override bool TryInvoke(object message, out Task? pending)
        {
            if (message is T typed)
            {
                pending = action(typed);
                return true;
            }

            pending = null;
            return false;
        }
    }
}
