using System.Collections.Frozen;
using System.Collections.Immutable;
using Router.Actors.Backends;
using Router.Actors.Config;
using Router.Actors.Routing;
using Router.Actors.Runtime;
using Router.Actors.State;

namespace Router.Actors.Inference;

/// <summary>What the runtime is built from besides the configuration: every seam tests and hosts replace.</summary>
public sealed record RouterRuntimeOptions
{
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
    /// <summary>Creates the client of each backend; defaults to <see cref="BackendClientFactory"/>.</summary>
    public Func<BackendConfig, IBackendClient>? ClientFactory { get; init; }
    /// <summary>Power readings; defaults to a simulated machine on AC.</summary>
    public IPowerSource? PowerSource { get; init; }
    /// <summary>Thermal readings; defaults to a simulated machine with no sensors.</summary>
    public IThermalSource? ThermalSource { get; init; }
    public IRequestObserver? Observer { get; init; }
    public ScoringOptions? Scoring { get; init; }
}

/// <summary>
/// The router's control plane: the actor system with a backends supervisor (one BackendActor per
/// enabled backend), the selector and the system-state actors; and the request path over them.
/// </summary>
public sealed class RouterRuntime : IRouterAdmin, IAsyncDisposable
{
    private readonly FrozenDictionary<string, BackendHandle> _backends;
    private readonly IActorRef _selector;
    private readonly IActorRef _efficiency;
    private readonly IActorRef[] _samplers;
    private readonly TimeSpan _askTimeout = TimeSpan.FromSeconds(5);

    private RouterRuntime(RouterConfig config, ActorSystem system, FrozenDictionary<string, BackendHandle> backends,
        IActorRef selector, IActorRef efficiency, IActorRef[] samplers, IInferenceRouter router)
    {
        _samplers = samplers;
        Config = config;
        System = system;
        _backends = backends;
        _selector = selector;
        _efficiency = efficiency;
        Router = router;
        ActorTree = () => System.Inspect();
    }

    public RouterConfig Config { get; }
    public ActorSystem System { get; }
    public IInferenceRouter Router { get; }
    public ActorTreeSnapshotProvider ActorTree { get; }

    public static async Task<RouterRuntime> StartAsync(RouterConfig config, RouterRuntimeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        options ??= new RouterRuntimeOptions();
        var time = options.TimeProvider;
        var system = ActorSystem.Create("ollama-proxy", new ActorSystemOptions { TimeProvider = time });
        var clientFactory = options.ClientFactory ?? (Func<BackendConfig, IBackendClient>)(backend => BackendClientFactory.Create(backend, time));
        var machine = new SimulatedMachine(time);

        var enabled = ImmutableArray.CreateBuilder<BackendConfig>();
        foreach (var backend in config.Backends)
        {
            if (backend.Enabled)
            {
                enabled.Add(backend);
            }
        }

        var sensors = ImmutableDictionary.CreateBuilder<string, SensorConfig>();
        var initial = new List<BackendSnapshot>();
        foreach (var backend in enabled)
        {
            sensors[backend.Id] = backend.Sensors;
            initial.Add(BackendActor.InitialSnapshot(backend));
        }

        var initialMode = config.Routing.AutoOptimize ? EfficiencyMode.Auto : config.Routing.DefaultMode;
        var sensorMap = sensors.ToImmutable();
        // State actors first: the selector must see the mode before the first request.
        var efficiency = system.ActorOf(Props.Create(() => new EfficiencyActor(initialMode, sensorMap)), "efficiency");
        // Before the samplers exist, for the selector's reason below: a first power or thermal
        // reading published before the efficiency actor has started would be lost, and Auto would
        // not see the machine until the next sample.
        system.EventStream.Subscribe<PowerReading>(efficiency);
        system.EventStream.Subscribe<ThermalReading>(efficiency);
        var scoring = options.Scoring ?? ScoringOptions.FromConfig(config.Routing);
        var initialState = SystemState.Default with { Mode = initialMode, EffectiveMode = initialMode };
        var table = new RoutingTable(initial, initialState);
        var selector = system.ActorOf(
            Props.Create(() => new SelectorActor(initial, initialState, scoring, table))
                .WithMailbox(new PriorityMailboxOptions()),
            "selector");
        // Subscribed now, not only when the selector starts: the backends probe as soon as they
        // exist, and on a loaded machine their first snapshot can be published before the selector
        // has run its PreStart. That snapshot would be lost, and the selector would see the backend
        // as unknown until the next probe, 30 s later.
        system.EventStream.Subscribe<BackendSnapshot>(selector);
        system.EventStream.Subscribe<SystemState>(selector);
        var power = system.ActorOf(Props.Create(() => new PowerActor(options.PowerSource ?? machine, config.Telemetry.SampleInterval, time)), "power");
        var thermal = system.ActorOf(Props.Create(() => new ThermalActor(options.ThermalSource ?? machine, sensorMap, config.Telemetry.SampleInterval, time)), "thermal");

        var backendsParent = system.ActorOf(Props.Create(() => new BackendsSupervisor()), "backends");
        var handles = new Dictionary<string, BackendHandle>(StringComparer.Ordinal);
        foreach (var backend in enabled)
        {
            var client = clientFactory(backend);
            var routing = config.Routing;
            var gates = new SlotGateHolder();
            var actor = await backendsParent.Ask<IActorRef>(
                new BackendsSupervisor.Create(
                    Props.Create(() => new BackendActor(backend, client, routing, gates))
                        .WithMailbox(new PriorityMailboxOptions { AgingInterval = routing.AgingInterval }),
                    backend.Id),
                TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            handles[backend.Id] = new BackendHandle(backend, actor, client, gates);
        }

        var frozen = handles.ToFrozenDictionary(StringComparer.Ordinal);
        var router = new InferenceRouter(table, scoring, frozen, config.Routing, time, options.Observer);
        return new RouterRuntime(config, system, frozen, selector, efficiency, [power, thermal], router);
    }

    public async ValueTask<ImmutableArray<BackendSnapshot>> GetBackendsAsync(CancellationToken cancellationToken)
    {
        var view = await _selector.Ask<SelectorView>(GetSelectorView.Instance, _askTimeout, cancellationToken).ConfigureAwait(false);
        return view.Backends;
    }

    public async ValueTask<SystemState> GetSystemStateAsync(CancellationToken cancellationToken) =>
        await _efficiency.Ask<SystemState>(GetSystemState.Instance, _askTimeout, cancellationToken).ConfigureAwait(false);

    public async ValueTask<SystemState> SetModeAsync(EfficiencyMode mode, CancellationToken cancellationToken) =>
        await _efficiency.Ask<SystemState>(new SetEfficiencyMode(mode), _askTimeout, cancellationToken).ConfigureAwait(false);

    public IBackendClient? GetClient(string backendId) =>
        _backends.TryGetValue(backendId, out var handle) ? handle.Client : null;

    /// <summary>The actor of one backend, for tests and the CLI (probe now, snapshot).</summary>
    public IActorRef? GetBackendActor(string backendId) =>
        _backends.TryGetValue(backendId, out var handle) ? handle.Actor : null;

    /// <summary>Samples power and temperatures now instead of at the next interval.</summary>
    public void SampleNow()
    {
        foreach (var sampler in _samplers)
        {
            sampler.Tell(State.SampleNow.Instance);
        }
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
        System.EventStream.Subscribe<TEvent>(observer);
        return observer;
    }

    public async ValueTask DisposeAsync()
    {
        await System.TerminateAsync().ConfigureAwait(false);
        foreach (var handle in _backends.Values)
        {
            handle.Client.Dispose();
        }
    }
}

/// <summary>
/// Parent of the backend actors. A backend actor that throws is restarted with back-off (its
/// health is re-learnt by probing); one backend's trouble never touches the others.
/// </summary>
internal sealed class BackendsSupervisor : ReceiveActor
{
    public sealed record Create(Props Props, string Name);

    public BackendsSupervisor() =>
        Receive<Create>(m => Sender.Tell(Context.ActorOf(m.Props, m.Name)));

    protected override SupervisorStrategy SupervisorStrategy() =>
        new OneForOneStrategy(10, TimeSpan.FromMinutes(1), _ => Directive.Restart,
            new BackoffOptions(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(10)));
}

/// <summary>Calls a handler for every event of one type on the event stream (bridges to non-actor code).</summary>
internal sealed class EventCallbackActor<TEvent> : ReceiveActor
    where TEvent : class
{
    private readonly Action<TEvent> _handler;

    public EventCallbackActor(Action<TEvent> handler)
    {
        _handler = handler;
        Receive<TEvent>(OnEvent);
    }

    protected override void PreStart() => Context.System.EventStream.Subscribe<TEvent>(Self);

    private void OnEvent(TEvent evt) => _handler(evt);
}
