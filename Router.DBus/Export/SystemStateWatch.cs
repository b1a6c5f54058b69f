using Router.Actors.Routing;

namespace Router.DBus.Export;

/// <summary>
/// The latest <see cref="SystemState"/> the actors published, for the objects that show it.
/// Lets a setter wait until the state its change produced has arrived here.
/// </summary>
internal sealed class SystemStateWatch
{
    /// <summary>How long a setter waits for its state before replying anyway.</summary>
    private static readonly TimeSpan SetterPatience = TimeSpan.FromSeconds(2);
    private const int RecentCount = 16;

    private readonly Lock _lock = new();
    // Guarded by _lock: the last states seen, newest last (the actor publishes the very instance
    // it answers a SetMode with, so a setter finds its own state by reference).
    private readonly Queue<SystemState> _recent = new();
    private readonly List<(SystemState State, TaskCompletionSource Seen)> _waiters = [];
    private SystemState _current;
    private bool _updated;

    public SystemStateWatch(SystemState initial) => _current = initial;

    public SystemState Current => Volatile.Read(ref _current);

    /// <summary>Takes a new state; returns the one it replaces.</summary>
    public SystemState Update(SystemState state)
    {
        SystemState previous;
        List<TaskCompletionSource>? seen = null;
        lock (_lock)
        {
            _updated = true;
            previous = _current;
            Volatile.Write(ref _current, state);
            _recent.Enqueue(state);
            if (_recent.Count > RecentCount)
            {
                _recent.Dequeue();
            }

            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (ReferenceEquals(_waiters[i].State, state))
                {
                    (seen ??= []).Add(_waiters[i].Seen);
                    _waiters.RemoveAt(i);
                }
            }
        }

        foreach (var waiter in seen ?? [])
        {
            waiter.TrySetResult();
        }

        return previous;
    }

    /// <summary>
    /// Takes a state read by asking (not from the event stream), unless an event has already
    /// brought one: any event is newer than a state read before it was subscribed to.
    /// </summary>
    public bool TryRefresh(SystemState state, out SystemState previous)
    {
        lock (_lock)
        {
            previous = _current;
            if (_updated)
            {
                return false;
            }

            _updated = true;
            Volatile.Write(ref _current, state);
            return true;
        }
    }

    /// <summary>Completes once <paramref name="state"/> has been taken (or after a short time, whichever is first).</summary>
    public async Task WaitForAsync(SystemState state, CancellationToken cancellationToken)
    {
        TaskCompletionSource seen;
        lock (_lock)
        {
            if (_recent.Any(s => ReferenceEquals(s, state)))
            {
                return;
            }

            seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((state, seen));
        }

        try
        {
            await seen.Task.WaitAsync(SetterPatience, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // The runtime answered with a copy of what it published, or its event is slow: reply
            // anyway; the properties follow when the event arrives.
            lock (_lock)
            {
                _waiters.RemoveAll(w => w.Seen == seen);
            }
        }
    }
}
