using System.Collections.Concurrent;

using Router.Actors.Routing;

namespace Router.Actors.Runtime.Dispatch;

/// <summary>
/// Decides when an actor runs. It is its own thread-pool work item, so scheduling allocates
/// nothing. <see cref="_status"/> is the only shared state and changes by compare-and-swap:
/// <list type="bullet">
/// <item><see cref="Scheduled"/>: a run is queued or in progress (or parked on an async handler);
/// whoever sets it queues the run, and only the run clears it. At most one run exists at a time,
/// which gives the actor its one-message-at-a-time guarantee.</item>
/// <item><see cref="Closed"/>: the actor has stopped; set once, by the run itself. Anything posted
/// afterwards is drained by the poster to dead letters.</item>
/// </list>
/// A run drains system messages first, then up to <c>throughput</c> user messages, re-checking
/// the system lane after each one.
/// </summary>
internal sealed class Mailbox : IThreadPoolWorkItem
{
    private const int Scheduled = 1;
    private const int Closed = 2;

    private readonly ConcurrentQueue<SystemMessage> _system = new();
    private readonly object _drainLock = new();
    private readonly MessageQueue _queue;
    private readonly ActorCell _cell;
    private readonly int _throughput;
    private int _status;

    public Mailbox(ActorCell cell, MessageQueue queue, int throughput)
    {
        _cell = cell;
        _queue = queue;
        _throughput = Math.Max(1, throughput);
    }

    public MessageQueue Queue => _queue;

    public int SystemDepth => _system.Count;

    public bool IsClosed => (Volatile.Read(ref _status) & Closed) != 0;

    public void Post(object message, IActorRef? sender)
    {
        if (!_queue.TryEnqueue(message, sender, out Priority lane, out int bound))
        {
            _cell.Reject(message, sender, lane, bound);
            return;
        }

        AfterUserEnqueue();
    }

    /// <summary>Posts a message the runtime generated (<see cref="Terminated"/>); lane bounds do not apply.</summary>
    public void PostUnbounded(object message, IActorRef? sender)
    {
        _queue.EnqueueUnbounded(message, sender);
        AfterUserEnqueue();
    }

    public void PostSystem(SystemMessage message)
    {
        _system.Enqueue(message);

        // Enqueue, then read the status (both fenced): either the closing run's final drain sees
        // the message or this thread sees Closed and drains it; a message is never stranded.
        int status = Volatile.Read(ref _status);
        if ((status & Closed) != 0)
        {
            DrainSystemAfterClose();
        }
        else if ((status & Scheduled) == 0)
        {
            TrySchedule();
        }
    }

    /// <summary>Marks the mailbox closed and sends what is left to dead letters. Called by the run, once.</summary>
    public void Close()
    {
        Interlocked.Or(ref _status, Closed);
        DrainUserAfterClose();
        DrainSystemAfterClose();
    }

    void IThreadPoolWorkItem.Execute() => Run();

    private void AfterUserEnqueue()
    {
        int status = Volatile.Read(ref _status);
        if ((status & Closed) != 0)
        {
            DrainUserAfterClose();
        }
        else if ((status & Scheduled) == 0)
        {
            TrySchedule();
        }
    }

    private void TrySchedule()
    {
        int status = Volatile.Read(ref _status);
        while ((status & (Scheduled | Closed)) == 0)
        {
            int seen = Interlocked.CompareExchange(ref _status, status | Scheduled, status);
            if (seen == status)
            {
                ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
                return;
            }

            status = seen;
        }
    }

    private void Run()
    {
        // 1. System messages first: lifecycle and supervision must overtake any backlog.
        if (!RunSystemMessages())
        {
            return;
        }

        // 2. User messages up to the throughput budget, while the actor is not suspended.
        for (int budget = _throughput; budget > 0 && !_cell.IsSuspended; budget--)
        {
            if (!_queue.TryDequeue(out Envelope envelope))
            {
                break;
            }

            Task? pending = _cell.InvokeUser(envelope);
            if (pending is not null)
            {
                // Sync-first: only a handler that is still running parks the mailbox.
                _ = ResumeWhenCompleteAsync(this, pending, isUser: true);
                return;
            }

            if (!_system.IsEmpty && !RunSystemMessages())
            {
                return;
            }
        }

        // 3. End of the turn: clear Scheduled, then look again, because a producer that saw
        //    Scheduled before the clear did not queue a run.
        if ((Interlocked.And(ref _status, ~Scheduled) & Closed) != 0)
        {
            return;
        }

        if (!_system.IsEmpty || (!_cell.IsSuspended && _queue.HasMessages))
        {
            TrySchedule();
        }
    }

    /// <summary>Returns false when the run must end here: the actor closed, or a step is awaiting.</summary>
    private bool RunSystemMessages()
    {
        while (_system.TryDequeue(out SystemMessage? message))
        {
            Task? pending = _cell.InvokeSystem(message);
            if (pending is not null)
            {
                _ = ResumeWhenCompleteAsync(this, pending, isUser: false);
                return false;
            }

            if (IsClosed)
            {
                return false;
            }
        }

        return !IsClosed;
    }

    // Keeps Scheduled set while the task runs, so nothing else of this actor runs meanwhile, then
    // continues the turn on the thread that completed the task.
    private static async Task ResumeWhenCompleteAsync(Mailbox mailbox, Task pending, bool isUser)
    {
        try
        {
            await pending.ConfigureAwait(false);
        }
        catch (Exception ex) when (isUser)
        {
            mailbox._cell.FailCurrentMessage(ex);
        }

        if (!mailbox.IsClosed)
        {
            mailbox.Run();
        }
    }

    // After the close, posters drain what they left behind; the lock keeps the queue's consumer
    // single (the run is over by then, so it never competes).
    private void DrainUserAfterClose()
    {
        lock (_drainLock)
        {
            while (_queue.TryDequeue(out Envelope envelope))
            {
                _cell.System.RecordDeadLetter(envelope.Message, envelope.Sender, _cell.Self);
            }
        }
    }

    private void DrainSystemAfterClose()
    {
        while (_system.TryDequeue(out SystemMessage? message))
        {
            _cell.InvokeSystemAfterStop(message);
        }
    }
}
