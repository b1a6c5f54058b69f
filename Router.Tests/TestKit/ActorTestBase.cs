using Router.Actors.Routing;
using Router.Actors.Runtime;

namespace Router.Tests.TestKit;

/// <summary>
/// One actor system per test, terminated (and checked to terminate) after it. Pass
/// <c>manualClock: true</c> to drive the scheduler, ask timeouts and aging with <see cref="Clock"/>.
/// </summary>
public abstract class ActorTestBase : IAsyncLifetime
{
    protected static readonly TimeSpan WaitTimeout = TestProbe.DefaultTimeout;

    private readonly ActorSystemOptions _options;
    private ActorSystem? _system;

    protected ActorTestBase(bool manualClock = false, ActorSystemOptions? options = null)
    {
        _options = options ?? ActorSystemOptions.Default;
        if (manualClock)
        {
            Clock = new ManualTimeProvider();
            _options = _options with { TimeProvider = Clock };
        }
    }

    protected ActorSystem Sys => _system ?? throw new InvalidOperationException("The actor system exists between InitializeAsync and DisposeAsync.");

    /// <summary>The manual clock, when the test asked for one.</summary>
    protected ManualTimeProvider Clock { get => field ?? throw new InvalidOperationException("This test did not ask for a manual clock."); private init; }

    public Task InitializeAsync()
    {
        _system = ActorSystem.Create(GetType().Name, _options);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_system is not null)
        {
            await _system.TerminateAsync().AsTask().WithTimeout(TimeSpan.FromSeconds(15));
        }
    }

    protected TestProbe CreateTestProbe(string? name = null) => new(Sys, name);

    protected static void AwaitCondition(Func<bool> condition, TimeSpan? timeout = null, string? message = null) =>
        Awaiting.AwaitCondition(condition, timeout ?? WaitTimeout, message);

    protected static Task AwaitAssertAsync(Action assertion, TimeSpan? timeout = null) =>
        Awaiting.AwaitAssertAsync(assertion, timeout ?? WaitTimeout);
}
