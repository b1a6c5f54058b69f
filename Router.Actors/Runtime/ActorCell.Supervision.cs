using Router.Actors.Runtime.Dispatch;

namespace Router.Actors.Runtime;

// Supervision. The failing child suspends itself and sends Failed to its parent; the parent's
// strategy answers with a directive: Resume, Restart (within a budget, optionally after a
// back-off on the scheduler), Stop, or Escalate (the parent fails with the same cause, so the
// grandparent's strategy decides; a guardian stops the child instead).
internal sealed partial class ActorCell
{
    // Restart budget of this cell, kept by its parent's run.
    private int _restartsInWindow;
    private long _restartWindowStart;

    private void HandleFailure(Exception cause, object? message)
    {
        RecordFailure(cause, message);
        if (_terminating)
        {
            return;
        }

        _suspended = true;
        _failedMessage = message;
        if (_parent is null)
        {
            RequestStop();
        }
        else
        {
            _parent.SendSystem(new Failed(this, cause, message));
        }
    }

    private void HandleChildFailure(Failed failed)
    {
        ActorCell child = failed.Child;
        if (_terminating || !ReferenceEquals(child._parent, this) || !IsChild(child))
        {
            // A stale report: the child is stopping or gone already.
            return;
        }

        StrategyForChildren().HandleChildFailure(this, child, failed.Cause, failed.Message);
    }

    private SupervisorStrategy StrategyForChildren()
    {
        if (_props.SupervisorStrategy is { } fromProps)
        {
            return fromProps;
        }

        if (_strategy is null)
        {
            SupervisorStrategy? own = null;
            try
            {
                own = _actor?.CallSupervisorStrategy();
            }
            catch (Exception ex)
            {
                RecordFailure(ex, null);
            }

            _strategy = own ?? SupervisorStrategy.Default;
        }

        return _strategy;
    }

    private void ResumeAfterFailure()
    {
        if (_terminating || _pendingRestart is not null || !_suspended)
        {
            return;
        }

        if (_actor is null && _lastFailure is { } failure)
        {
            // Resuming an actor whose creation failed: there is no instance to resume, so make one.
            ContinueRecreate(failure.Cause);
            return;
        }

        _failedMessage = null;
        _suspended = false;

        // Children of an actor that escalated are waiting for a directive too.
        foreach (ActorCell child in ChildrenSnapshot())
        {
            child.SendSystem(Dispatch.Resume.Instance);
        }
    }

    /// <summary>Directive Restart for <paramref name="child"/>, within the budget; over budget the child stops.</summary>
    internal void RestartChild(ActorCell child, Exception cause, int maxNrOfRetries, TimeSpan withinTimeRange, BackoffOptions? backoff)
    {
        int restart = child.CountRestart(maxNrOfRetries, withinTimeRange, _system.TimeProvider);
        if (restart < 0)
        {
            child.RequestStop();
            return;
        }

        if (backoff is null)
        {
            child.SendSystem(new Recreate(cause));
        }
        else
        {
            _system.SchedulerImpl.ScheduleSystemOnce(backoff.DelayFor(restart), child, new Recreate(cause));
        }
    }

    /// <summary>Directive Escalate: this actor fails with the child's cause; a guardian stops the child instead.</summary>
    internal void Escalate(ActorCell child, Exception cause, object? message)
    {
        if (IsGuardian)
        {
            child.RequestStop();
        }
        else
        {
            HandleFailure(cause, message);
        }
    }

    /// <summary>Returns this restart's number in the current window (1-based), or -1 when the budget is spent.</summary>
    private int CountRestart(int maxNrOfRetries, TimeSpan withinTimeRange, TimeProvider time)
    {
        if (maxNrOfRetries == 0)
        {
            return -1;
        }

        long now = time.GetTimestamp();
        bool windowed = withinTimeRange > TimeSpan.Zero && withinTimeRange != Timeout.InfiniteTimeSpan;
        if (windowed && (_restartsInWindow == 0
            || time.GetElapsedTime(_restartWindowStart, now).TotalMilliseconds > withinTimeRange.TotalMilliseconds))
        {
            _restartWindowStart = now;
            _restartsInWindow = 0;
        }

        _restartsInWindow++;
        return maxNrOfRetries > 0 && _restartsInWindow > maxNrOfRetries ? -1 : _restartsInWindow;
    }
}
