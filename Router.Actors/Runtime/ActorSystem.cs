using System.Collections.Immutable;

namespace Router.Actors.Runtime;

/// <summary>
/// The root of an actor hierarchy: the <c>/user</c> guardian (parent of everything created with
/// <see cref="ActorOf"/>), the <c>/system</c> guardian (runtime helpers such as test probes), dead
/// letters, the event stream and the scheduler.
/// </summary>
public sealed partial class ActorSystem : IAsyncDisposable
{
    private readonly ActorCell _userGuardian;
    private readonly ActorCell _systemGuardian;
    private readonly TaskCompletionSource _terminated = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _deadLetters;
    private long _pendingAsks;
    private int _terminating;

    private ActorSystem(string name, ActorSystemOptions options)
    {
        Name = name;
        Options = options;
        TimeProvider = options.TimeProvider;
        SchedulerImpl = new TimeProviderScheduler(options.TimeProvider);
        EventStream = new EventStream();
        DeadLetters = new DeadLetterActorRef(this);

        Props guardian = Props.Create(static () => new GuardianActor());
        _userGuardian = new ActorCell(this, null, ActorPath.Root.Child("user"), guardian);
        _systemGuardian = new ActorCell(this, null, ActorPath.Root.Child("system"), guardian);
        _userGuardian.SendSystem(Dispatch.Create.Instance);
        _systemGuardian.SendSystem(Dispatch.Create.Instance);
    }

    public string Name { get; }

    public ActorSystemOptions Options { get; }

    public TimeProvider TimeProvider { get; }

    public IScheduler Scheduler => SchedulerImpl;

    public EventStream EventStream { get; }

    /// <summary>Everything told to it is counted in <see cref="DeadLetterCount"/> and published as <see cref="DeadLetter"/>.</summary>
    public IActorRef DeadLetters { get; }

    public long DeadLetterCount => Interlocked.Read(ref _deadLetters);

    /// <summary>Completes when <see cref="TerminateAsync"/> has stopped every actor.</summary>
    public Task WhenTerminated => _terminated.Task;

    internal TimeProviderScheduler SchedulerImpl { get; }

    /// <summary>Asks still waiting for a reply, a timeout or a cancellation.</summary>
    internal long PendingAsks => Interlocked.Read(ref _pendingAsks);

    public static ActorSystem Create(string name, ActorSystemOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        options ??= ActorSystemOptions.Default;
        ArgumentNullException.ThrowIfNull(options.TimeProvider, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Throughput, 1, nameof(options));
        return new ActorSystem(name, options);
    }

    /// <summary>Creates a top-level actor, a child of <c>/user</c>.</summary>
    public IActorRef ActorOf(Props props, string name)
    {
        ThrowIfTerminating();
        return _userGuardian.ActorOf(props, name);
    }

    /// <summary>Creates a runtime helper under <c>/system</c> (test probes, internal services).</summary>
    internal IActorRef SystemActorOf(Props props, string name)
    {
        ThrowIfTerminating();
        return _systemGuardian.ActorOf(props, name);
    }

    /// <summary>
    /// Stops everything in order: the <c>/user</c> tree first (children before parents, each
    /// <c>PostStopAsync</c> awaited), then <c>/system</c>. Idempotent; every call returns the same completion.
    /// </summary>
    public ValueTask TerminateAsync()
    {
        if (Interlocked.Exchange(ref _terminating, 1) == 0)
        {
            _ = RunTerminationAsync();
        }

        return new ValueTask(_terminated.Task);
    }

    public ValueTask DisposeAsync() => TerminateAsync();

    /// <summary>A snapshot of the whole tree (root <c>/</c> with <c>/user</c> and <c>/system</c>); safe from any thread.</summary>
    public ActorTreeSnapshot Inspect()
    {
        var guardians = ImmutableArray.Create(Describe(_userGuardian), Describe(_systemGuardian));
        var root = new ActorNodeSnapshot("/", "Root", "none", [], 0, 0, null, null, guardians);
        return new ActorTreeSnapshot(root, TimeProvider.GetUtcNow(), DeadLetterCount);
    }

    public override string ToString() => $"ActorSystem({Name})";

    internal void RecordDeadLetter(object message, IActorRef? sender, IActorRef recipient)
    {
        Interlocked.Increment(ref _deadLetters);

        // A dead letter about a dead letter is counted but not published again, so a stopped
        // subscriber cannot make publishing loop.
        if (message is not DeadLetter && EventStream.HasSubscribers(typeof(DeadLetter)))
        {
            EventStream.Publish(new DeadLetter(message, sender, recipient));
        }
    }

    internal void AskStarted() => Interlocked.Increment(ref _pendingAsks);

    internal void AskFinished() => Interlocked.Decrement(ref _pendingAsks);

    private static ActorNodeSnapshot Describe(ActorCell cell)
    {
        ActorCell[] children = cell.ChildrenSnapshot();
        var childNodes = ImmutableArray.CreateBuilder<ActorNodeSnapshot>(children.Length);
        foreach (ActorCell child in children)
        {
            childNodes.Add(Describe(child));
        }

        var lanes = ImmutableArray.CreateBuilder<LaneDepth>(5);
        lanes.Add(new LaneDepth("system", cell.Mailbox.SystemDepth));
        cell.Mailbox.Queue.AddLaneDepths(lanes);
        FailureRecord? failure = cell.LastFailure;
        return new ActorNodeSnapshot(
            cell.Path.ToString(),
            cell.Props.ActorType.Name,
            cell.Mailbox.Queue.Kind,
            lanes.DrainToImmutable(),
            cell.MessagesProcessed,
            cell.Restarts,
            failure?.Describe(),
            failure?.At,
            childNodes.DrainToImmutable());
    }

    private async Task RunTerminationAsync()
    {
        _userGuardian.RequestStop();
        await _userGuardian.WhenStopped.ConfigureAwait(false);
        _systemGuardian.RequestStop();
        await _systemGuardian.WhenStopped.ConfigureAwait(false);
        SchedulerImpl.Shutdown();
        _terminated.TrySetResult();
    }

    private void ThrowIfTerminating()
    {
        if (Volatile.Read(ref _terminating) != 0)
        {
            throw new InvalidOperationException($"Actor system '{Name}' is terminating.");
        }
    }

    /// <summary>The actor behind <c>/user</c> and <c>/system</c>; it only supervises.</summary>
    private sealed class GuardianActor : ActorBase
    {
        protected override bool Receive(object message) => false;
    }
}
