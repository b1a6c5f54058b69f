using System.Collections.Frozen;
using System.Collections.Immutable;
using Akka.Actor;
using Akka.Hosting;
using Akka.Streams;
using Router.Actors.Backends;
using Router.Actors.Config;
using Router.Actors.Inspection;
using Router.Actors.Routing;
using Router.Actors.State;

namespace Router.Actors.Inference;

/// <summary>What the runtime is built from besides the configuration: every seam tests and hosts replace.</summary>
public sealed record RouterRuntimeOptions
{
    /// <summary>The request path's clock (time to first token, aging of queued requests, energy).</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
    /// <summary>Creates the client of each backend; defaults to <see cref="BackendClientFactory"/>.</summary>
    public Func<BackendConfig, IBackendClient>? ClientFactory { get; init; }
    /// <summary>Power readings; defaults to <see cref="UnmeasuredMachine"/> (on AC, nothing measured).</summary>
    public IPowerSource? PowerSource { get; init; }
    /// <summary>Thermal readings; defaults to <see cref="UnmeasuredMachine"/> (no sensors).</summary>
    public IThermalSource? ThermalSource { get; init; }
    public IRequestObserver? Observer { get; init; }
    public ScoringOptions? Scoring { get; init; }
    /// <summary>How failing backend actors are replaced; <see cref="BackendSupervision.Default"/> unless set.</summary>
    public BackendSupervision Supervision { get; init; } = BackendSupervision.Default;
    /// <summary>Akka.NET settings laid over the configuration's when the runtime creates its own actor system (tests: the TestScheduler).</summary>
    public string? ActorSystemOverrides { get; init; }
}

/// <summary>
/// The router's control plane and request path. The actors — a backends supervisor with one
/// <see cref="BackendActor"/> per enabled backend, the routing-table publisher, and the efficiency,
/// power and thermal actors — run in an Akka.NET actor system and are registered in its Akka.Hosting
/// <see cref="ActorRegistry"/>. The request path (<see cref="Router"/>) never waits on them: it
/// routes by the published <see cref="RoutingTable"/> and takes free slots through each backend's
/// <see cref="SlotGate"/>.
/// </summary>
/// <remarks>
/// The daemon creates the runtime, then starts its actors in the actor system Akka.Hosting runs
/// (<see cref="StartActorsAsync"/>); tests and tools call <see cref="StartAsync(RouterConfig, RouterRuntimeOptions?)"/>,
/// which creates and owns an actor system of its own.
/// </remarks>
public sealed class RouterRuntime : IRouterAdmin, IAsyncDisposable
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan BackendStartTimeout = TimeSpan.FromSeconds(30);

    private readonly RouterRuntimeOptions _options;
    private readonly FrozenDictionary<string, BackendHandle> _backends;
    private readonly BackendDirectory _directory;
    private readonly ImmutableArray<BackendSnapshot> _initialSnapshots;
    private readonly RoutingTable _table;
    private readonly SystemState _initialState;
    private ActorSystem? _system;
    private bool _ownsSystem;
    private Actors? _actors;
    private IMaterializer? _materializer;

    public RouterRuntime(RouterConfig config, RouterRuntimeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        _options = options ?? new RouterRuntimeOptions();
        Config = config;
        var time = _options.TimeProvider;
        var clientFactory = _options.ClientFactory ?? (backend => BackendClientFactory.Create(backend, time));

        var handles = new Dictionary<string, BackendHandle>(StringComparer.Ordinal);
        var initial = ImmutableArray.CreateBuilder<BackendSnapshot>();
        foreach (var backend in config.Backends)
        {
            if (backend.Enabled)
            {
                handles[backend.Id] = new BackendHandle(backend, clientFactory(backend), new BackendSlots());
                initial.Add(BackendActor.InitialSnapshot(backend));
            }
        }

        _backends = handles.ToFrozenDictionary(StringComparer.Ordinal);
        _initialSnapshots = initial.ToImmutable();
        var initialMode = config.Routing.AutoOptimize ? EfficiencyMode.Auto : config.Routing.DefaultMode;
        _initialState = SystemState.Default with { Mode = initialMode, EffectiveMode = initialMode };
        _table = new RoutingTable(_initialSnapshots, _initialState);
        var scoring = _options.Scoring ?? ScoringOptions.FromConfig(config);
        _directory = new BackendDirectory(_backends);
        Router = new InferenceRouter(_table, scoring, _directory, config.Routing, time, _options.Observer);
    }

    public RouterConfig Config { get; }
    public IInferenceRouter Router { get; }

    /// <summary>Every backend the request path can call: this router's own, and the fleet's while it runs.</summary>
    internal BackendDirectory Backends => _directory;

    /// <summary>The request path's clock.</summary>
    internal TimeProvider TimeProvider => _options.TimeProvider;

    /// <summary>The actor system the actors run in, once started.</summary>
    public ActorSystem System => _system ?? throw new InvalidOperationException("The router's actors have not been started.");

    /// <summary>Runs the token streams the surfaces write to their clients (one for the whole runtime), once started.</summary>
    public IMaterializer Materializer => _materializer ?? throw new InvalidOperationException("The router's actors have not been started.");

    /// <summary>Starts a runtime in an actor system of its own (named <c>ollama-proxy</c>), which it stops when disposed.</summary>
    public static async Task<RouterRuntime> StartAsync(RouterConfig config, RouterRuntimeOptions? options = null)
    {
        var runtime = new RouterRuntime(config, options);
        var system = ActorSystem.Create(ActorSystemConfig.SystemName, ActorSystemConfig.For(config, runtime._options.ActorSystemOverrides));
        runtime._ownsSystem = true;
        try
        {
            await runtime.StartActorsAsync(system).ConfigureAwait(false);
        }
        catch
        {
            await runtime.DisposeAsync().ConfigureAwait(false);
            await system.Terminate().ConfigureAwait(false);
            throw;
        }

        return runtime;
    }

    /// <summary>
    /// Creates the router's actors in <paramref name="system"/>, registers them in its
    /// <see cref="ActorRegistry"/>, and returns once every backend actor runs.
    /// </summary>
    public async Task StartActorsAsync(ActorSystem system, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(system);
        if (Interlocked.CompareExchange(ref _system, system, null) is not null)
        {
            throw new InvalidOperationException("The router's actors were started already.");
        }

        var config = Config;
        var time = _options.TimeProvider;
        _ = FailureJournal.Get(system);
        var sensors = ImmutableDictionary.CreateBuilder<string, SensorConfig>();
        var specs = ImmutableArray.CreateBuilder<BackendActorSpec>();
        foreach (var snapshot in _initialSnapshots)
        {
            var handle = _backends[snapshot.Id];
            sensors[snapshot.Id] = handle.Config.Sensors;
            specs.Add(new BackendActorSpec(handle.Config, handle.Client, handle.Slots));
        }

        var sensorMap = sensors.ToImmutable();
        var rejecter = system.ActorOf(Props.Create<UndeliveredTicketRejecter>(), UndeliveredTicketRejecter.Name);
        UndeliveredTicketRejecter.Subscribe(system, rejecter);

        // State first, subscribed before the samplers exist: routing must see the mode before the
        // first request, and Auto the first reading.
        var efficiency = system.ActorOf(Props.Create(() => new EfficiencyActor(_initialState.Mode, sensorMap, time, null)), EfficiencyActor.Name);
        EfficiencyActor.Subscribe(system, efficiency);
        var publisher = system.ActorOf(Props.Create(() => new RoutingTablePublisher(_initialSnapshots, _initialState, _table)), RoutingTablePublisher.Name);
        RoutingTablePublisher.Subscribe(system, publisher);

        var machine = new UnmeasuredMachine(time);
        var powerSource = _options.PowerSource ?? machine;
        var thermalSource = _options.ThermalSource ?? machine;
        var interval = config.Telemetry.SampleInterval;
        var power = system.ActorOf(Props.Create(() => new PowerActor(powerSource, interval, time)), PowerActor.Name);
        var thermal = system.ActorOf(Props.Create(() => new ThermalActor(thermalSource, sensorMap, interval, time)), ThermalActor.Name);
        var supervision = _options.Supervision;
        var backends = system.ActorOf(Props.Create(() => new BackendsSupervisor(specs.ToImmutable(), config.Routing, time, supervision)), BackendsSupervisor.Name);

        var registry = ActorRegistry.For(system);
        registry.Register<EfficiencyActor>(efficiency);
        registry.Register<RoutingTablePublisher>(publisher);
        registry.Register<PowerActor>(power);
        registry.Register<ThermalActor>(thermal);
        registry.Register<BackendsSupervisor>(backends);
        _actors = new Actors(efficiency, publisher, power, thermal, backends);
        _materializer = TokenStreams.CreateMaterializer(system);

        var started = Task.WhenAll(_backends.Values.Select(h => h.Slots.Started));
        try
        {
            await started.WaitAsync(BackendStartTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            var missing = string.Join(", ", _backends.Values.Where(h => !h.Slots.Started.IsCompleted).Select(h => h.Config.Id));
            throw new InvalidOperationException($"the actors of backends {missing} did not start within {BackendStartTimeout.TotalSeconds:0} s");
        }
    }

    private Actors Started => _actors ?? throw new InvalidOperationException("The router's actors have not been started.");

    public async ValueTask<ImmutableArray<BackendSnapshot>> GetBackendsAsync(CancellationToken cancellationToken)
    {
        var view = await Started.RoutingTable.Ask<RoutingView>(GetRoutingView.Instance, AskTimeout, cancellationToken).ConfigureAwait(false);
        return view.Backends;
    }

    public async ValueTask<SystemState> GetSystemStateAsync(CancellationToken cancellationToken) =>
        await Started.Efficiency.Ask<SystemState>(GetSystemState.Instance, AskTimeout, cancellationToken).ConfigureAwait(false);

    public async ValueTask<SystemState> SetModeAsync(EfficiencyMode mode, CancellationToken cancellationToken) =>
        await Started.Efficiency.Ask<SystemState>(new SetEfficiencyMode(mode), AskTimeout, cancellationToken).ConfigureAwait(false);

    public IBackendClient? GetClient(string backendId) =>
        _backends.TryGetValue(backendId, out var handle) ? handle.Client : null;

    public ActorTreeSnapshot? InspectActors(string path) => ActorTreeInspector.Inspect(System, path);

    /// <summary>The running actor of one backend, for tests and tools (probe now, snapshot); null if unknown or not running.</summary>
    public IActorRef? GetBackendActor(string backendId) =>
        _backends.TryGetValue(backendId, out var handle) ? handle.Slots.Current?.Actor : null;

    /// <summary>Where the request path logs what it must not let fail a request (a broken observer); the host sets it once its loggers exist.</summary>
    public void UseLogger(Microsoft.Extensions.Logging.ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(loggers);
        ((InferenceRouter)Router).Logger = loggers.CreateLogger("Router.Requests");
    }

    /// <summary>Samples power and temperatures now instead of at the next interval.</summary>
    public void SampleNow()
    {
        Started.Power.Tell(State.SampleNow.Instance, ActorRefs.NoSender);
        Started.Thermal.Tell(State.SampleNow.Instance, ActorRefs.NoSender);
    }

    /// <summary>
    /// Calls <paramref name="handler"/> for every <typeparamref name="TEvent"/> published on the
    /// event stream (backend snapshots, system state, thermal events), one at a time, from an actor
    /// named <paramref name="name"/>. For surfaces and metrics that live outside the actor system.
    /// </summary>
    public IActorRef Observe<TEvent>(string name, Action<TEvent> handler)
        where TEvent : class
    {
        ArgumentNullException.ThrowIfNull(handler);
        var observer = System.ActorOf(Props.Create(() => new EventCallbackActor<TEvent>(handler)), name);
        // From this call on, not from whenever the actor starts: events in between would be lost.
        System.EventStream.Subscribe(observer, typeof(TEvent));
        return observer;
    }

    public async ValueTask DisposeAsync()
    {
        if (_ownsSystem && _system is { } system)
        {
            await system.Terminate().ConfigureAwait(false);
        }

        foreach (var handle in _backends.Values)
        {
            handle.Client.Dispose();
        }
    }

    private sealed record Actors(IActorRef Efficiency, IActorRef RoutingTable, IActorRef Power, IActorRef Thermal, IActorRef Backends);
}

/// <summary>Calls a handler for every event of one type on the event stream (bridges to non-actor code).</summary>
internal sealed class EventCallbackActor<TEvent> : ReceiveActor
    where TEvent : class
{
    public EventCallbackActor(Action<TEvent> handler) => Receive<TEvent>(handler);
}
