using System.Collections.Concurrent;
using Router.Actors.Routing;
using Router.Actors.Runtime;

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
            backend.Tell(CountGateAdmissions.Instance);
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
/// Where the request path finds a backend's current <see cref="SlotGate"/>. A restarted actor
/// starts with a fresh gate (its predecessor's slots are forgotten with the rest of its state).
/// </summary>
public sealed class SlotGateHolder
{
    private volatile SlotGate? _current;

    /// <summary>The gate of the running incarnation, or null before the actor started.</summary>
    public SlotGate? Current => _current;

    internal void Set(SlotGate gate) => _current = gate;
}
