using System.Collections.Concurrent;
using Akka.Actor;
using Router.Actors.Routing;

namespace Router.Actors.Backends;

/// <summary>
/// The free slots of one backend actor incarnation, shared with the request path so that the
/// common case (a healthy backend with a free slot and nobody queued) is admitted with one atomic
/// decrement instead of a round trip through the actor's mailbox, which costs two thread hops per
/// request. The actor stays the owner: it opens the gate only while nobody waits, and it alone
/// returns slots, after it has offered them to the waiting requests. Anything else (a full
/// backend, a queue, half-open, unhealthy) goes through the actor as before.
/// The actor learns of the slots taken here from a queue it drains whenever it runs. The request
/// nudges it once its call is under way (<see cref="SlotTicket.ReportStarted"/>), so the wake of
/// the actor's thread overlaps the backend's work instead of delaying the call, and one nudge
/// covers every admission until the actor has drained the queue.
/// </summary>
public sealed class SlotGate
{
    private readonly ConcurrentQueue<SlotTicket> _taken = new();
    private int _free;
    private volatile bool _open;
    private int _nudged;

    internal SlotGate(int capacity) => _free = capacity;

    /// <summary>Slots nobody holds (a moment's reading).</summary>
    public int Free => Volatile.Read(ref _free);

    /// <summary>Whether requests may take a slot without asking the actor.</summary>
    public bool IsOpen => _open;

    /// <summary>
    /// The request path: grants <paramref name="ticket"/> a free slot if the gate is open, and leaves
    /// it for the actor to count as in flight (and to preempt). False: ask the actor.
    /// </summary>
    public bool TryAdmit(SlotTicket ticket)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        if (!_open || !TryTake())
        {
            return false;
        }

        ticket.GrantFromGate(this);
        _taken.Enqueue(ticket);
        return true;
    }

    /// <summary>The request path: makes sure the actor will count the admissions queued so far.</summary>
    internal void Nudge(IActorRef backend)
    {
        if (Interlocked.Exchange(ref _nudged, 1) == 0)
        {
            backend.Tell(CountGateAdmissions.Instance, ActorRefs.NoSender);
        }
    }

    /// <summary>The actor: the next ticket admitted here that it has not counted yet.</summary>
    internal bool TryDrainTaken(out SlotTicket ticket)
    {
        // Re-armed before draining: an admission queued after this point nudges again.
        Volatile.Write(ref _nudged, 0);
        return _taken.TryDequeue(out ticket!);
    }

    /// <summary>The actor: takes a slot for a request it grants itself.</summary>
    internal bool TryTake()
    {
        var free = Volatile.Read(ref _free);
        while (free > 0)
        {
            var seen = Interlocked.CompareExchange(ref _free, free - 1, free);
            if (seen == free)
            {
                return true;
            }

            free = seen;
        }

        return false;
    }

    /// <summary>The actor: a slot came back and no waiting request took it.</summary>
    internal void Return() => Interlocked.Increment(ref _free);

    /// <summary>The actor: open while the backend serves at full width and nobody is queued.</summary>
    internal void SetOpen(bool open) => _open = open;
}

/// <summary>
/// Where the request path finds a backend's running actor incarnation: its <see cref="SlotGate"/>
/// and the actor that owns it. A restarted actor starts with a fresh gate (its predecessor's slots
/// are forgotten with the rest of its state), so a request takes both from the same incarnation:
/// its ticket then reports to the actor whose gate admitted it.
/// </summary>
public sealed class BackendSlots
{
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile BackendIncarnation? _current;
    private long _incarnations;

    /// <summary>The running incarnation, or null before the backend's first actor has started.</summary>
    public BackendIncarnation? Current => _current;

    /// <summary>Completes when the first incarnation has started.</summary>
    public Task Started => _started.Task;

    /// <summary>Called by each new incarnation of the backend's actor, from its constructor; returns its number (1, 2, …).</summary>
    internal long Start(SlotGate gate, IActorRef actor)
    {
        var number = Interlocked.Increment(ref _incarnations);
        _current = new BackendIncarnation(gate, actor, number);
        _started.TrySetResult();
        return number;
    }
}

/// <summary>One incarnation of a backend actor: its gate, its ref, and which one it is.</summary>
public sealed record BackendIncarnation(SlotGate Gate, IActorRef Actor, long Number);
