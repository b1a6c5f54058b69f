namespace Router.Actors.Runtime;

/// <summary>How a parent handles its children's failures.</summary>
public abstract class SupervisorStrategy
{
    private protected SupervisorStrategy()
    {
    }

    /// <summary>
    /// Restart on any exception, without limit, except that an actor which cannot be created
    /// (<see cref="ActorInitializationException"/>) is stopped. As in Akka.
    /// </summary>
    public static SupervisorStrategy Default { get; } = new OneForOneStrategy(-1, Timeout.InfiniteTimeSpan, DefaultDecider);

    public static Directive DefaultDecider(Exception exception) =>
        exception is ActorInitializationException ? Directive.Stop : Directive.Restart;

    internal abstract void HandleChildFailure(ActorCell parent, ActorCell child, Exception cause, object? message);
}

/// <summary>Restart delays: <c>MinBackoff × 2^(n-1)</c> for the n-th restart in the window, capped at <c>MaxBackoff</c>.</summary>
public sealed record BackoffOptions(TimeSpan MinBackoff, TimeSpan MaxBackoff)
{
    internal TimeSpan DelayFor(int restart)
    {
        if (MinBackoff <= TimeSpan.Zero)
        {
            return TimeSpan.Zero;
        }

        int doublings = Math.Clamp(restart - 1, 0, 30);
        double ticks = MinBackoff.Ticks * Math.Pow(2, doublings);
        return ticks >= MaxBackoff.Ticks ? MaxBackoff : TimeSpan.FromTicks((long)ticks);
    }
}

/// <summary>
/// Applies the decider's directive to the failed child only. Restarts are limited to
/// <c>maxNrOfRetries</c> within <c>withinTimeRange</c> (negative = unlimited; an infinite or zero
/// range = a total count); over budget the child is stopped. With <see cref="BackoffOptions"/> each
/// restart waits on the scheduler first.
/// </summary>
public sealed class OneForOneStrategy : SupervisorStrategy
{
    private readonly Func<Exception, Directive> _decider;

    public OneForOneStrategy(int maxNrOfRetries, TimeSpan withinTimeRange, Func<Exception, Directive> decider, BackoffOptions? backoff = null)
    {
        ArgumentNullException.ThrowIfNull(decider);
        if (backoff is not null && backoff.MaxBackoff < backoff.MinBackoff)
        {
            throw new ArgumentException("MaxBackoff must not be less than MinBackoff.", nameof(backoff));
        }

        MaxNrOfRetries = maxNrOfRetries;
        WithinTimeRange = withinTimeRange;
        _decider = decider;
        Backoff = backoff;
    }

    public int MaxNrOfRetries { get; }

    public TimeSpan WithinTimeRange { get; }

    public BackoffOptions? Backoff { get; }

    public Directive Decide(Exception exception) => _decider(exception);

    internal override void HandleChildFailure(ActorCell parent, ActorCell child, Exception cause, object? message)
    {
        Directive directive;
        try
        {
            directive = _decider(cause);
        }
        catch (Exception)
        {
            // A decider that throws cannot decide here: let the level above.
            directive = Directive.Escalate;
        }

        switch (directive)
        {
            case Directive.Resume:
                child.SendSystem(Dispatch.Resume.Instance);
                break;
            case Directive.Restart:
                parent.RestartChild(child, cause, MaxNrOfRetries, WithinTimeRange, Backoff);
                break;
            case Directive.Stop:
                child.RequestStop();
                break;
            default:
                parent.Escalate(child, cause, message);
                break;
        }
    }
}
