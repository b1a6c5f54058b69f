using Router.Actors.Routing;
using Akka.Actor;
using Akka.Event;

namespace Router.Actors.Backends;

/// <summary>How a request that held a slot ended, for metrics and passive health.</summary>
public enum CallOutcome
{
    /// <summary>The answer was delivered.</summary>
    Succeeded,
    /// <summary>The backend failed (connection, timeout, 5xx, broken stream): counts against its health.</summary>
    BackendFailed,
    /// <summary>The request was wrong (a 4xx from the backend): not the backend's fault.</summary>
    ClientError,
    /// <summary>A critical request took the slot (load shedding): not the backend's fault.</summary>
    Preempted,
    /// <summary>The client went away or cancelled.</summary>
    Cancelled,
}

/// <summary>What a finished call reports to its backend actor.</summary>
public sealed record CallReport(
    CallOutcome Outcome,
    string? Model,
    double? TimeToFirstTokenMs,
    int Tokens,
    double? GenerationSeconds)
{
    /// <summary>How the call failed, when it did: a first-byte timeout makes the backend probe itself at once.</summary>
    public BackendErrorKind? Failure { get; init; }
}

/// <summary>
/// One request's claim on a backend slot: it waits in the backend's queue until granted, and once
/// granted must be released exactly once. The request side and the actor race on cancellation;
/// the ticket settles that race so a slot is never leaked: a grant that loses to a cancellation is
/// handed straight back by the actor.
/// </summary>
public sealed class SlotTicket
{
    private const int Waiting = 0, Granted = 1, Rejected = 2, Cancelled = 3, Released = 4;

    private readonly TaskCompletionSource<SlotGrant> _grant = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _state;
    private SlotGate? _admittedBy;
    private readonly IActorRef _backend;
    private readonly CancellationTokenSource _preemption = new();

    internal SlotTicket(IActorRef backend, Priority priority, string? model, long enqueuedAt)
    {
        _backend = backend;
        Priority = priority;
        Model = model;
        EnqueuedAt = enqueuedAt;
    }

    public Priority Priority { get; }
    public string? Model { get; }
    /// <summary>The backend actor incarnation this ticket waits on or holds a slot of.</summary>
    internal IActorRef Backend => _backend;
    /// <summary><see cref="TimeProvider.GetTimestamp"/> when the ticket was created, for aging.</summary>
    public long EnqueuedAt { get; }
    public Task<SlotGrant> Task => _grant.Task;

    /// <summary>Cancelled when a critical request takes this request's slot; the call links to it.</summary>
    public CancellationToken PreemptionToken => _preemption.Token;
    public bool IsPreempted => _preemption.IsCancellationRequested;

    /// <summary>
    /// Called by the actor: the slot now belongs to a critical request. The actor has already
    /// forgotten this ticket's slot, so the request side's later release changes nothing.
    /// </summary>
    internal void Preempt() => _preemption.Cancel();
    internal bool IsWaiting => Volatile.Read(ref _state) == Waiting;

    /// <summary>Called by the actor. False when the request already gave up: the actor keeps the slot.</summary>
    internal bool TryGrant()
    {
        if (Interlocked.CompareExchange(ref _state, Granted, Waiting) != Waiting)
        {
            return false;
        }

        _grant.TrySetResult(new SlotGrant(this));
        return true;
    }

    /// <summary>Called by <see cref="SlotGate.TryAdmit"/> for a new ticket, with the slot already taken.</summary>
    internal void GrantFromGate(SlotGate gate)
    {
        _admittedBy = gate;
        Volatile.Write(ref _state, Granted);
        _grant.TrySetResult(new SlotGrant(this));
    }

    /// <summary>Called by the actor when the queue at this priority is full or the backend is stopping.</summary>
    internal void Reject(string reason, TimeSpan retryAfter, bool queueFull)
    {
        if (Interlocked.CompareExchange(ref _state, Rejected, Waiting) == Waiting)
        {
            _grant.TrySetResult(new SlotGrant(this, reason, retryAfter, queueFull));
        }
    }

    /// <summary>
    /// Called by the request side when it stops waiting. If the slot was already granted, it is
    /// released; otherwise the actor drops the ticket from its queue.
    /// </summary>
    public void Cancel()
    {
        var previous = Interlocked.CompareExchange(ref _state, Cancelled, Waiting);
        if (previous == Waiting)
        {
            _grant.TrySetCanceled();
            _backend.Tell(new TicketCancelled(this), ActorRefs.NoSender);
        }
        else if (previous == Granted)
        {
            Release(new CallReport(CallOutcome.Cancelled, Model, null, 0, null));
        }
    }

    /// <summary>
    /// Called by the request side when it gives up waiting (its queue deadline passed): true when
    /// the ticket was still waiting and is now withdrawn from the queue; false when the actor
    /// answered first (the grant or rejection is in <see cref="Task"/>).
    /// </summary>
    public bool TryWithdraw()
    {
        if (Interlocked.CompareExchange(ref _state, Cancelled, Waiting) != Waiting)
        {
            return false;
        }

        _grant.TrySetCanceled();
        _backend.Tell(new TicketCancelled(this), ActorRefs.NoSender);
        return true;
    }

    /// <summary>Returns the slot with the call's report. Only the first call has an effect.</summary>
    public void Release(CallReport report)
    {
        if (Interlocked.CompareExchange(ref _state, Released, Granted) == Granted)
        {
            _backend.Tell(new SlotReleased(this, report), ActorRefs.NoSender);
        }
    }

    /// <summary>
    /// Called once the call is under way. A slot taken through the backend's gate is announced to
    /// its actor now (so it shows in flight), not at admission, where the message's thread wake
    /// would delay the call itself.
    /// </summary>
    public void ReportStarted() => _admittedBy?.Nudge(_backend);

    /// <summary>Tells the backend the first token arrived (live time-to-first-token).</summary>
    public void ReportFirstToken(double timeToFirstTokenMs) => _backend.Tell(new FirstTokenArrived(this, timeToFirstTokenMs), ActorRefs.NoSender);
}

/// <summary>The answer to a <see cref="SlotTicket"/>: granted, or rejected with a reason.</summary>
/// <param name="QueueFull">Rejected because the queue at the request's priority is full (else: the backend cannot serve now).</param>
public readonly record struct SlotGrant(SlotTicket Ticket, string? RejectedReason = null, TimeSpan RetryAfter = default, bool QueueFull = false)
{
    public bool IsGranted => RejectedReason is null;
}

/// <summary>Sent by <see cref="SlotGate.Nudge"/>: count the requests admitted through the gate.</summary>
/// <remarks>On the control level with the releases, in order, so a count is never overtaken by a release of the same slots.</remarks>
internal sealed class CountGateAdmissions : IDeadLetterSuppression
{
    public static readonly CountGateAdmissions Instance = new();
    private CountGateAdmissions() { }
}

// The messages below concern one incarnation's slots: sent to a stopped one, they are moot.

/// <summary>Frees a queue place: a control message, served before new requests so the backend's view stays current.</summary>
internal sealed record TicketCancelled(SlotTicket Ticket) : IDeadLetterSuppression;

internal sealed record SlotReleased(SlotTicket Ticket, CallReport Report) : IDeadLetterSuppression;

internal sealed record FirstTokenArrived(SlotTicket Ticket, double TimeToFirstTokenMs) : IDeadLetterSuppression;
