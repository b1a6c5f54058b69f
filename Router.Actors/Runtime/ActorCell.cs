using Router.Actors.Runtime.Dispatch;

using Router.Actors.Routing;

namespace Router.Actors.Runtime;

/// <summary>
/// The runtime side of one actor: its ref, mailbox, current instance, children, watchers and
/// statistics. Everything not marked otherwise is touched only by the mailbox run (one thread at a
/// time); children are guarded by <see cref="_childrenLock"/>; statistics for inspection are
/// written by the run and read from any thread.
/// </summary>
internal sealed partial class ActorCell : IActorContext
{
    [ThreadStatic]
    private static ActorCell? t_constructing;

    private readonly ActorSystem _system;
    private readonly ActorCell? _parent;
    private readonly Props _props;
    private readonly LocalActorRef _self;
    private readonly Mailbox _mailbox;

    private ActorBase? _actor;
    private SupervisorStrategy? _strategy;
    private object? _currentMessage;
    private IActorRef? _currentSender;
    private bool _suspended = true;     // until Create has run

    // Statistics read by Inspect from other threads.
    private long _messagesProcessed;
    private int _restarts;
    private FailureRecord? _lastFailure;

    internal ActorCell(ActorSystem system, ActorCell? parent, ActorPath path, Props props)
    {
        _system = system;
        _parent = parent;
        _props = props;
        _self = new LocalActorRef(this, path);
        _mailbox = new Mailbox(this, MessageQueue.Create(props.Mailbox, system.TimeProvider), system.Options.Throughput);
    }

    /// <summary>The cell whose actor is being constructed on this thread; read by the <see cref="ActorBase"/> constructor.</summary>
    internal static ActorCell? Constructing => t_constructing;

    public IActorRef Self => _self;

    public IActorRef Sender => _currentSender ?? _system.DeadLetters;

    public IActorRef Parent => _parent?._self ?? _system.DeadLetters;

    public ActorSystem System => _system;

    public TimeProvider TimeProvider => _system.TimeProvider;

    public IScheduler Scheduler => _system.Scheduler;

    internal LocalActorRef SelfRef => _self;

    internal ActorCell? ParentCell => _parent;

    internal Mailbox Mailbox => _mailbox;

    internal Props Props => _props;

    internal bool IsSuspended => _suspended;

    internal ActorPath Path => _self.Path;

    /// <summary>True for the guardians, which have no parent to escalate to.</summary>
    internal bool IsGuardian => _parent is null;

    internal long MessagesProcessed => Volatile.Read(ref _messagesProcessed);

    internal int Restarts => Volatile.Read(ref _restarts);

    internal FailureRecord? LastFailure => Volatile.Read(ref _lastFailure);

    internal void SendSystem(SystemMessage message) => _mailbox.PostSystem(message);

    /// <summary>Processes one user message; returns a task only when an async handler is still running.</summary>
    internal Task? InvokeUser(in Envelope envelope)
    {
        object message = envelope.Message;
        _currentMessage = message;
        _currentSender = envelope.Sender;
        Volatile.Write(ref _messagesProcessed, _messagesProcessed + 1);

        ActorBase? actor = _actor;
        if (actor is null)
        {
            _system.RecordDeadLetter(message, envelope.Sender, _self);
            return null;
        }

        if (message is PoisonPill)
        {
            SendSystem(Terminate.Instance);
            return null;
        }

        try
        {
            Task? pending = actor.AroundReceive(message);
            // One reading of the status: the task may complete on another thread at any moment,
            // and two readings ("not done successfully", then "done") would take a success that
            // landed in between for a failure, and restart the actor.
            switch (pending?.Status)
            {
                case null or TaskStatus.RanToCompletion:
                    return null;
                case TaskStatus.Faulted or TaskStatus.Canceled:
                    FailCurrentMessage(pending.Exception?.InnerException ?? new TaskCanceledException(pending));
                    return null;
                default:
                    return pending;
            }
        }
        catch (Exception ex)
        {
            FailCurrentMessage(ex);
            return null;
        }
    }

    /// <summary>The handler of the current message threw (synchronously or from its task).</summary>
    internal void FailCurrentMessage(Exception cause) => HandleFailure(cause, _currentMessage);

    /// <summary>Processes one system message; returns a task only when a step (<c>PostStopAsync</c>) is still running.</summary>
    internal Task? InvokeSystem(SystemMessage message)
    {
        switch (message)
        {
            case Create:
                CreateFirstInstance();
                return null;
            case Terminate:
                return BeginTerminate();
            case Failed failed:
                HandleChildFailure(failed);
                return null;
            case Resume:
                ResumeAfterFailure();
                return null;
            case Recreate recreate:
                return BeginRecreate(recreate.Cause);
            case Watch watch:
                AddWatcher(watch.Watcher);
                return null;
            case Unwatch unwatch:
                RemoveWatcher(unwatch.Watcher);
                return null;
            case DeathWatchNotification notification:
                return HandleDeathWatchNotification(notification.Actor);
            default:
                return null;
        }
    }

    /// <summary>A bounded lane was full: tell the sender, or dead-letter the message when there is none.</summary>
    internal void Reject(object message, IActorRef? sender, Priority lane, int bound)
    {
        if (sender is null)
        {
            _system.RecordDeadLetter(message, null, _self);
        }
        else
        {
            sender.Tell(new MailboxRejected(message, lane, bound), _self);
        }
    }

    internal void PublishUnhandled(object message) =>
        _system.EventStream.Publish(new UnhandledMessage(message, _currentSender, _self));

    private ActorBase NewInstance()
    {
        ActorCell? previous = t_constructing;
        t_constructing = this;
        try
        {
            ActorBase actor = _props.Factory();
            if (!ReferenceEquals(actor.Cell, this))
            {
                throw new InvalidOperationException(
                    $"The Props factory for {_self.Path} returned an instance it did not create; it must return a new actor each call.");
            }

            return actor;
        }
        finally
        {
            t_constructing = previous;
        }
    }

    private void RecordFailure(Exception cause, object? message)
    {
        Volatile.Write(ref _lastFailure, new FailureRecord(cause, message, _system.TimeProvider.GetUtcNow()));
        if (_system.EventStream.HasSubscribers(typeof(ActorFailed)))
        {
            _system.EventStream.Publish(new ActorFailed(_self, cause, message));
        }
    }
}

/// <summary>The last failure of an actor, as inspection shows it; one immutable object so readers never see a torn value.</summary>
internal sealed class FailureRecord(Exception cause, object? message, DateTimeOffset at)
{
    public Exception Cause { get; } = cause;

    public object? Message { get; } = message;

    public DateTimeOffset At { get; } = at;

    public string Describe() => Message is null
        ? $"{Cause.GetType().Name}: {Cause.Message}"
        : $"{Cause.GetType().Name}: {Cause.Message} (while processing {Message.GetType().Name})";
}
