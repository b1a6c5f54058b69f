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

    public TimeProviderScheduler(TimeProvider time) => _time = time;

    public ICancelable ScheduleTellOnce(TimeSpan delay, IActorRef receiver, object message, IActorRef? sender = null)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        ArgumentNullException.ThrowIfNull(message);
        return Start(new TellItem(receiver, message, sender, repeating: false), ClampDelay(delay), Timeout.InfiniteTimeSpan);
    }

    public ICancelable ScheduleTellRepeatedly(TimeSpan initialDelay, TimeSpan interval, IActorRef receiver, object message, IActorRef? sender = null)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        ArgumentNullException.ThrowIfNull(message);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        return Start(new TellItem(receiver, message, sender, repeating: true), ClampDelay(initialDelay), interval);
    }

    internal void ScheduleSystemOnce(TimeSpan delay, ActorCell receiver, SystemMessage message)
    {
        if (delay <= TimeSpan.Zero)
        {
            receiver.SendSystem(message);
            return;
        }

        Start(new SystemItem(receiver, message), delay, Timeout.InfiniteTimeSpan);
    }

    private static TimeSpan ClampDelay(TimeSpan delay) => delay < TimeSpan.Zero ? TimeSpan.Zero : delay;

    private ScheduledItem Start(ScheduledItem item, TimeSpan due, TimeSpan period)
    {
        item.Attach(_time.CreateTimer(static state => ((ScheduledItem)state!).Fire(), item, due, period));
        return item;
    }

    private abstract class ScheduledItem : ICancelable
    {
        private readonly bool _repeating;
        private ITimer? _timer;
        private int _state;   // 0 armed, 1 done (fired once, or cancelled)
        private volatile bool _cancelled;

        protected ScheduledItem(bool repeating) => _repeating = repeating;

        public bool IsCancellationRequested => _cancelled;

        public void Cancel()
        {
            _cancelled = true;
            Volatile.Write(ref _state, 1);
            Volatile.Read(ref _timer)?.Dispose();
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
            }
        }

        protected abstract void Deliver();
    }

    private sealed class TellItem(IActorRef receiver, object message, IActorRef? sender, bool repeating) : ScheduledItem(repeating)
    {
        protected override void Deliver() => receiver.Tell(message, sender);
    }

    private sealed class SystemItem(ActorCell receiver, SystemMessage message) : ScheduledItem(repeating: false)
    {
        protected override void Deliver() => receiver.SendSystem(message);
    }
}
