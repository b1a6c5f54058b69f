using System.Collections.Immutable;
using System.Text;
using System.Threading.Channels;
using Router.Actors.Backends;
using Router.Actors.Inference;
using Router.Actors.Inspection;
using Router.Actors.Routing;

namespace Router.Tests.Http.Fakes;

/// <summary>Four backends as a laptop would have them (one degraded, one down) and the machine's state.</summary>
internal sealed class FakeRouterAdmin : IRouterAdmin
{
    private readonly Dictionary<string, FakeBackendClient> _clients;

    public FakeRouterAdmin()
    {
        Snapshots =
        [
            Snapshot("ollama-npu", "npu", 3, 800, BackendHealth.Healthy, "llama3.2:1b", "nomic-embed-text:latest"),
            Snapshot("ollama-igpu", "igpu", 12, 380, BackendHealth.Healthy, "llama3.2:latest", "qwen2.5:0.5b", "nomic-embed-text:latest") with
            {
                InFlight = 1,
                QueueDepthByPriority = [0, 2, 1, 0],
                MetricsByModel = ImmutableDictionary<string, ModelMetrics>.Empty.Add("llama3.2:latest", new ModelMetrics(361.5, 41.2, 17)),
                RequestsTotal = 120,
                FailuresTotal = 3,
                ErrorRate = 0.025,
            },
            Snapshot("ollama-nvidia", "nvidia", 55, 150, BackendHealth.Degraded, "llama3.2:latest", "llama3.1:8b") with { StatusMessage = "slow answers: p50 first token 900 ms" },
            Snapshot("ollama-cpu", "cpu", 28, 1500, BackendHealth.Unhealthy, "llama3.2:latest") with { StatusMessage = "connection refused" },
        ];
        _clients = Snapshots.ToDictionary(s => s.Id, s => new FakeBackendClient(s.Id, s.Models));
    }

    public ImmutableArray<BackendSnapshot> Snapshots { get; set; }
    public SystemState State { get; set; } = SystemState.Default with
    {
        OnAcPower = false,
        BatteryPercent = 64,
        MaxTemperatureC = 71.5,
        ThermalByBackend = ImmutableDictionary<string, DeviceThermal>.Empty
            .Add("ollama-nvidia", new DeviceThermal(71.5, 80, 95))
            .Add("ollama-npu", new DeviceThermal(null))
            .Add("ollama-cpu", new DeviceThermal(96, 85, 95)),
    };

    public List<EfficiencyMode> ModesSet { get; } = new();

    public ValueTask<ImmutableArray<BackendSnapshot>> GetBackendsAsync(CancellationToken cancellationToken) => ValueTask.FromResult(Snapshots);

    public ValueTask<SystemState> GetSystemStateAsync(CancellationToken cancellationToken) => ValueTask.FromResult(State);

    public ValueTask<SystemState> SetModeAsync(EfficiencyMode mode, CancellationToken cancellationToken)
    {
        ModesSet.Add(mode);
        State = mode == EfficiencyMode.Auto
            ? State with { Mode = mode, EffectiveMode = EfficiencyMode.Efficiency, ModeReason = "on battery at 64 %" }
            : State with { Mode = mode, EffectiveMode = mode, ModeReason = "user-selected" };
        return ValueTask.FromResult(State);
    }

    public IBackendClient? GetClient(string backendId) => _clients.GetValueOrDefault(backendId);

    public FakeBackendClient Client(string backendId) => _clients[backendId];

    public ActorTreeSnapshot? InspectActors(string path)
    {
        var igpu = Node("/user/backends/ollama-igpu/backend", "BackendActor", "BackendMailbox", waiting: 2, restarts: 1, []);
        var backends = Node("/user/backends", "BackendsSupervisor", "UnboundedMailbox", 0, 0,
            [Node("/user/backends/ollama-igpu", "BackoffOnRestartSupervisor", "UnboundedMailbox", 0, 0, [igpu])]);
        var root = Node("/user", "GuardianActor", "UnboundedMailbox", 0, 0,
            [backends, Node("/user/routing-table", "RoutingTablePublisher", "UnboundedMailbox", 0, 0, [])]);
        return path switch
        {
            "/user" => new ActorTreeSnapshot(root, DateTimeOffset.UnixEpoch, 3),
            "/user/backends" => new ActorTreeSnapshot(backends, DateTimeOffset.UnixEpoch, 3),
            _ => null,
        };

        static ActorNodeSnapshot Node(string path, string type, string mailbox, int waiting, int restarts, ImmutableArray<ActorNodeSnapshot> children) =>
            new(path, type, mailbox, waiting, restarts, restarts > 0 ? "InvalidOperationException: boom" : null, restarts > 0 ? DateTimeOffset.UnixEpoch : null, children);
    }

    private static BackendSnapshot Snapshot(string id, string hardware, double watts, double latency, BackendHealth health, params string[] models) => new()
    {
        Id = id,
        Name = "Ollama on " + hardware,
        Hardware = hardware,
        Health = health,
        PowerWatts = watts,
        AvgLatencyMs = latency,
        MaxConcurrent = 2,
        Models = models.ToImmutableHashSet(),
        ModelsKnown = true,
        LastCheck = new DateTimeOffset(2026, 11, 22, 3, 0, 0, TimeSpan.Zero),
    };
}

/// <summary>The shape a real actor tree snapshot might have, to prove /actors serializes whatever it gets.</summary>

/// <summary>A backend's informational endpoints, Ollama style; the inference calls are the router's business.</summary>
internal sealed class FakeBackendClient : IBackendClient
{
    private readonly ImmutableHashSet<string> _models;

    public FakeBackendClient(string backendId, ImmutableHashSet<string> models)
    {
        BackendId = backendId;
        _models = models;
    }

    public string BackendId { get; }
    public bool FailModelList { get; set; }
    public List<(HttpMethod Method, string Path, string Body)> Passthroughs { get; } = new();

    public bool Supports(BackendApi api) => true;

    public Task<Result<ImmutableArray<BackendModel>, BackendError>> ListModelsAsync(CancellationToken cancellationToken)
    {
        if (FailModelList) return Task.FromResult(Result<ImmutableArray<BackendModel>, BackendError>.Fail(new BackendError(BackendErrorKind.ConnectFailed, BackendId + " refused the connection")));
        var models = _models.OrderBy(m => m, StringComparer.Ordinal).Select(name => new BackendModel(name, 1_321_098_329, new DateTimeOffset(2026, 10, 1, 0, 0, 0, TimeSpan.Zero))
        {
            Raw = Encoding.UTF8.GetBytes($$$"""{"name":"{{{name}}}","model":"{{{name}}}","modified_at":"2026-10-01T00:00:00Z","size":1321098329,"digest":"sha256-{{{name.Length}}}","details":{"format":"gguf","family":"llama","families":["llama"],"parameter_size":"1.2B","quantization_level":"Q8_0"}}"""),
        }).ToImmutableArray();
        return Task.FromResult(Result<ImmutableArray<BackendModel>, BackendError>.Ok(models));
    }

    public Task<Result<BackendResponse, BackendError>> PassthroughAsync(HttpMethod method, string path, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        Passthroughs.Add((method, path, Encoding.UTF8.GetString(body.Span)));
        string json = path switch
        {
            "/api/ps" => $$$"""{"models":[{"name":"{{{_models.First()}}}","model":"{{{_models.First()}}}","size":2019393189,"digest":"abc","details":{"format":"gguf"},"expires_at":"2026-11-22T04:00:00Z","size_vram":2019393189}]}""",
            "/api/show" => $$$"""{"modelfile":"FROM llama3.2","parameters":"stop \"<|eot_id|>\"","template":"{{ .Prompt }}","details":{"format":"gguf","family":"llama"},"model_info":{"general.architecture":"llama"},"served_by":"{{{BackendId}}}"}""",
            "/api/version" => """{"version":"0.12.6"}""",
            "/api/generate" => $$$"""{"model":"any","response":"","done":true,"done_reason":"unload","served_by":"{{{BackendId}}}"}""",
            _ => """{"error":"not found"}""",
        };
        return Task.FromResult(Result<BackendResponse, BackendError>.Ok(new BackendResponse(200, Encoding.UTF8.GetBytes(json), BackendUsage.None)));
    }

    public Task<Result<BackendResponse, BackendError>> SendAsync(BackendRequest request, CancellationToken cancellationToken) =>
        throw new NotSupportedException("inference goes through the router");

    public ChannelReader<StreamEvent> Stream(BackendRequest request, CancellationToken cancellationToken) =>
        throw new NotSupportedException("inference goes through the router");

    public Task<Result<TimeSpan, BackendError>> ProbeAsync(CancellationToken cancellationToken) =>
        Task.FromResult(Result<TimeSpan, BackendError>.Ok(TimeSpan.FromMilliseconds(3)));

    public void Dispose()
    {
    }
}
