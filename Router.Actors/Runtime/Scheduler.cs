using Router.Actors.Runtime.Dispatch;

namespace Router.Actors.Runtime;

/// <summary>Delayed and periodic tells, driven by the actor system's <see cref="TimeProvider"/>.</summary>
public interface IScheduler
{
    ICancelable ScheduleTellOnce(TimeSpan delay, IActorRef receiver, object message, IActorRef? sender = null);

    ICancelable ScheduleTellRepeatedly(TimeSpan initialDelay, TimeSpan interval, IActorRef receiver, object message, IActorRef? sender = null);
}

/// <summary>A scheduled tell that can be called off.</summary>
public interface ICancelable
{
    void Cancel();

    bool IsCancellationRequested { get; }
}

/// <summary>
/// One <see cref="ITimer"/> per scheduled item, created through the <see cref="TimeProvider"/>, so a
/// manual clock fires them deterministically. The item is the timer's state: no closure per schedule.
/// </summary>
internal sealed class TimeProviderScheduler : IScheduler
{
    private readonly TimeProvider _time;

    // Armed items, so the actor system's termination can call them all off.
    private readonly object _gate = new();
    private readonly HashSet<ScheduledItem> _armed = [];
    private bool _shutDown;

    public TimeProviderScheduler(TimeProvider time) => _time = time;

    public ICancelable ScheduleTellOnce(TimeSpan delay, IActorRef receiver, object message, IActorRef? sender = null)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        ArgumentNullException.ThrowIfNull(message);
        return Start(new TellItem(this, receiver, message, sender, repeating: false), ClampDelay(delay), Timeout.InfiniteTimeSpan);
    }

    public ICancelable ScheduleTellRepeatedly(TimeSpan initialDelay, TimeSpan interval, IActorRef receiver, object message, IActorRef? sender = null)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        ArgumentNullException.ThrowIfNull(message);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        return Start(new TellItem(this, receiver, message, sender, repeating: true), ClampDelay(initialDelay), interval);
    }

    internal void ScheduleSystemOnce(TimeSpan delay, ActorCell receiver, SystemMessage message)
    {
        if (delay <= TimeSpan.Zero)
        {
            receiver.SendSystem(message);
            return;
        }

        Start(new SystemItem(this, receiver, message), delay, Timeout.InfiniteTimeSpan);
    }

    private static TimeSpan ClampDelay(TimeSpan delay) => delay < TimeSpan.Zero ? TimeSpan.Zero : delay;

    /// <summary>Cancels everything still armed; later schedules are cancelled at once. Called when the actor system has terminated.</summary>
    internal void Shutdown()
    {
        ScheduledItem[] armed;
        lock (_gate)
        {
            _shutDown = true;
            armed = [.. _armed];
            _armed.Clear();
        }

        foreach (ScheduledItem item in armed)
        {
            item.Cancel();
        }
    }

    private ScheduledItem Start(ScheduledItem item, TimeSpan due, TimeSpan period)
    {
        lock (_gate)
        {
            if (_shutDown)
            {
                item.Cancel();
                return item;
            }

            _armed.Add(item);
        }

        item.Attach(_time.CreateTimer(static state => ((ScheduledItem)state!).Fire(), item, due, period));
        return item;
    }

    private void Disarm(ScheduledItem item)
    {
        lock (_gate)
        {
            _armed.Remove(item);
        }
    }

    private abstract class ScheduledItem : ICancelable
    {
        private readonly TimeProviderScheduler _owner;
        private readonly bool _repeating;
        private ITimer? _timer;
        private int _state;   // 0 armed, 1 done (fired once, or cancelled)
        private volatile bool _cancelled;

        protected ScheduledItem(TimeProviderScheduler owner, bool repeating)
        {
            _owner = owner;
            _repeating = repeating;
        }

        public bool IsCancellationRequested => _cancelled;

        public void Cancel()
        {
            _cancelled = true;
            Volatile.Write(ref _state, 1);
            Volatile.Read(ref _timer)?.Dispose();
            _owner.Disarm(this);
        }

        public void Attach(ITimer timer)
        {
            Volatile.Write(ref _timer, timer);
            if (Volatile.Read(ref _state) != 0)
            {
                // Cancelled, or a one-shot that fired while the timer was being created.
                timer.Dispose();
            }
        }

        public void Fire()
        {
            if (_repeating)
            {
                if (Volatile.Read(ref _state) == 0)
                {
                    Deliver();
                }

                return;
            }

            if (Interlocked.Exchange(ref _state, 1) == 0)
            {
                Deliver();
                Volatile.Read(ref _timer)?.Dispose();
                _owner.Disarm(this);
            }
        }

        protected abstract void Deliver();
    }

    private sealed class TellItem(TimeProviderScheduler owner, IActorRef receiver, object message, IActorRef? sender, bool repeating)
        : ScheduledItem(owner, repeating)
    {
        protected override void Deliver() => receiver.Tell(message, sender);
    }

    private sealed class SystemItem(TimeProviderScheduler owner, ActorCell receiver, SystemMessage message)
        : ScheduledItem(owner, repeating: false)
    {
        protected override void Deliver() => receiver.SendSystem(message);
    }
}
