namespace Router.Actors.Runtime;

/// <summary>
/// The temporary sender of an ask: the first message told to it completes the task; the timeout
/// timer and the cancellation registration are released on every path, so no waiter outlives its ask.
/// It is itself the <see cref="TaskCompletionSource{TResult}"/>, which saves an allocation per ask.
/// </summary>
internal sealed class PromiseActorRef<T> : TaskCompletionSource<T>, IInternalActorRef
{
    private static long s_nextId;

    private readonly ActorSystem? _system;
    private readonly IActorRef _target;
    private readonly TimeSpan _timeout;
    private ITimer? _timer;
    private CancellationTokenRegistration _registration;
    private ActorPath? _path;
    private int _completed;

    internal PromiseActorRef(ActorSystem? system, IActorRef target, TimeSpan timeout)
        : base(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        _system = system;
        _target = target;
        _timeout = timeout;
    }

    public ActorPath Path => _path ??= ActorPath.Root.Child("temp").Child("ask-" + Interlocked.Increment(ref s_nextId).ToString(global::System.Globalization.CultureInfo.InvariantCulture));

    public ActorSystem? System => _system;

    /// <summary>Arms the timeout and the cancellation; call once, before the question is told.</summary>
    internal void Start(TimeProvider time, CancellationToken cancellationToken)
    {
        _system?.AskStarted();
        if (_timeout != Timeout.InfiniteTimeSpan)
        {
            ITimer timer = time.CreateTimer(static state => ((PromiseActorRef<T>)state!).OnTimeout(), this, _timeout, Timeout.InfiniteTimeSpan);
            _timer = timer;
            if (Volatile.Read(ref _completed) != 0)
            {
                // The timer fired (or a reply came) before the field was set: release it here.
                timer.Dispose();
            }
        }

        if (cancellationToken.CanBeCanceled)
        {
            _registration = cancellationToken.UnsafeRegister(static (state, token) => ((PromiseActorRef<T>)state!).OnCancel(token), this);
            if (Volatile.Read(ref _completed) != 0)
            {
                _registration.Dispose();
            }
        }
    }

    public void Tell(object message, IActorRef? sender = null)
    {
        if (message is null)
        {
            ThrowHelper.ThrowMessageNull();
        }

        if (!TryClaim())
        {
            // A late reply after a timeout or a cancellation: nobody waits for it any more.
            _system?.RecordDeadLetter(message, sender, this);
            return;
        }

        switch (message)
        {
            case T result:
                TrySetResult(result);
                break;
            case Status.Failure failure:
                TrySetException(failure.Cause);
                break;
            case Status.Success { Value: T value }:
                TrySetResult(value);
                break;
            default:
                TrySetException(new InvalidCastException(
                    $"Ask of {_target.Path} expected a reply of type {typeof(T).Name} but got {message.GetType().Name}."));
                break;
        }
    }

    private void OnTimeout()
    {
        if (TryClaim())
        {
            TrySetException(new AskTimeoutException($"Ask of {_target.Path} timed out after {_timeout.TotalMilliseconds} ms."));
        }
    }

    private void OnCancel(CancellationToken token)
    {
        if (TryClaim())
        {
            TrySetCanceled(token);
        }
    }

    private bool TryClaim()
    {
        if (Interlocked.Exchange(ref _completed, 1) != 0)
        {
            return false;
        }

        _timer?.Dispose();
        _registration.Dispose();
        _system?.AskFinished();
        return true;
    }

    public bool Equals(IActorRef? other) => ReferenceEquals(this, other);

    public override bool Equals(object? obj) => ReferenceEquals(this, obj);

    public override int GetHashCode() => global::System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(this);

    public override string ToString() => Path.ToString();
}
