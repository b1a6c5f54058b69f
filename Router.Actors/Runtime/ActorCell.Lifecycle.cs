using Router.Actors.Runtime.Dispatch;

namespace Router.Actors.Runtime;

// Lifecycle: create, stop (children first, PostStopAsync awaited, then watchers and parent),
// and restart (PreRestart, PostStopAsync of the old instance, wait for stopping children, new
// instance from Props, PostRestart). Runs on the mailbox run only.
internal sealed partial class ActorCell
{
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private object? _failedMessage;
    private Exception? _pendingRestart;
    private bool _finishing;

    /// <summary>Completes once the actor has stopped and its watchers and parent were told.</summary>
    internal Task WhenStopped => _stopped.Task;

    private void CreateFirstInstance()
    {
        if (_terminating || _actor is not null)
        {
            return;
        }

        try
        {
            ActorBase actor = NewInstance();
            _actor = actor;
            actor.AroundPreStart();
            _suspended = false;
        }
        catch (Exception ex)
        {
            HandleFailure(new ActorInitializationException($"{_self.Path}: creating the actor failed: {ex.Message}", ex), null);
        }
    }

    private Task? BeginTerminate()
    {
        ActorCell[]? children = MarkTerminating();
        if (children is null)
        {
            return null;
        }

        _suspended = true;
        _stopRequested = true;
        _pendingRestart = null;
        foreach (ActorCell child in children)
        {
            child.RequestStop();
        }

        // Otherwise the last child's DeathWatchNotification finishes the stop.
        return children.Length == 0 ? FinishTerminate() : null;
    }

    private Task? FinishTerminate()
    {
        if (_finishing)
        {
            return null;
        }

        _finishing = true;
        ActorBase? actor = _actor;
        if (actor is not null)
        {
            ValueTask stopping = CallPostStop(actor);
            if (!stopping.IsCompleted)
            {
                return AwaitPostStopThenCompleteAsync(this, stopping);
            }

            ObserveCompleted(stopping);
        }

        CompleteTerminate();
        return null;

        static async Task AwaitPostStopThenCompleteAsync(ActorCell cell, ValueTask stopping)
        {
            try
            {
                await stopping.ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                cell.RecordFailure(ex, null);
            }

            cell.CompleteTerminate();
        }
    }

    private void CompleteTerminate()
    {
        _actor = null;
        _system.EventStream.UnsubscribeStopped(_self);
        _mailbox.Close();
        NotifyWatchersOfStop();
        _parent?.SendSystem(new DeathWatchNotification(_self));
        _stopped.TrySetResult();
    }

    /// <summary>A system message reached the mailbox after it closed.</summary>
    internal void InvokeSystemAfterStop(SystemMessage message)
    {
        switch (message)
        {
            case Watch watch:
                // Watching an actor that is already dead still yields exactly one Terminated.
                watch.Watcher.SendSystem(new DeathWatchNotification(_self));
                break;
            case Failed failed:
                failed.Child.RequestStop();
                break;
        }
    }

    private Task? BeginRecreate(Exception cause)
    {
        if (_terminating)
        {
            return null;
        }

        ActorBase? old = _actor;
        if (old is not null)
        {
            try
            {
                old.AroundPreRestart(cause, _failedMessage);
            }
            catch (Exception ex)
            {
                RecordFailure(ex, _failedMessage);
            }

            // Every instance that ends gets its PostStopAsync, on restart as on stop.
            ValueTask stopping = CallPostStop(old);
            if (!stopping.IsCompleted)
            {
                return AwaitOldInstanceThenRecreateAsync(this, stopping, cause);
            }

            ObserveCompleted(stopping);
        }

        ContinueRecreate(cause);
        return null;

        static async Task AwaitOldInstanceThenRecreateAsync(ActorCell cell, ValueTask stopping, Exception cause)
        {
            try
            {
                await stopping.ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                cell.RecordFailure(ex, null);
            }

            cell.ContinueRecreate(cause);
        }
    }

    private void ContinueRecreate(Exception cause)
    {
        _actor = null;
        if (HasStoppingChildren())
        {
            // The new instance may create children with the same names: wait until they are gone.
            _pendingRestart = cause;
            return;
        }

        FinishRecreate(cause);
    }

    private void FinishRecreate(Exception cause)
    {
        _pendingRestart = null;
        _strategy = null;
        Interlocked.Increment(ref _restarts);
        try
        {
            ActorBase actor = NewInstance();
            _actor = actor;
            actor.AroundPostRestart(cause);
            _failedMessage = null;
            _suspended = false;
        }
        catch (Exception ex)
        {
            HandleFailure(new ActorInitializationException($"{_self.Path}: re-creating the actor failed: {ex.Message}", ex), null);
        }
    }

    private ValueTask CallPostStop(ActorBase actor)
    {
        try
        {
            return actor.AroundPostStop();
        }
        catch (Exception ex)
        {
            RecordFailure(ex, null);
            return ValueTask.CompletedTask;
        }
    }

    private void ObserveCompleted(ValueTask stopping)
    {
        try
        {
            stopping.GetAwaiter().GetResult();
        }
        catch (Exception ex)
        {
            RecordFailure(ex, null);
        }
    }
}
