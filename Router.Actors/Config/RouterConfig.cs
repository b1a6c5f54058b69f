using System.Collections.Immutable;
using Router.Actors.Routing;

namespace Router.Actors.Config;

/// <summary>The whole configuration, immutable. Built by the HOCON or legacy YAML loader.</summary>
public sealed record RouterConfig
{
    public ServerConfig Server { get; init; } = new();
    public RoutingConfig Routing { get; init; } = new();
    public TelemetryConfig Telemetry { get; init; } = new();
    public ImmutableArray<BackendConfig> Backends { get; init; } = ImmutableArray<BackendConfig>.Empty;
    /// <summary>The fleet: this router and those of other machines as one Akka.Cluster. Off by default.</summary>
    public ClusterConfig Cluster { get; init; } = new();
    /// <summary>
    /// The file's <c>akka { }</c> block as resolved HOCON text (empty when it has none), laid over
    /// the router's Akka defaults when the actor system starts.
    /// </summary>
    public string ActorSystemHocon { get; init; } = "";
}

public sealed record ServerConfig
{
    /// <summary>Bind address. Loopback by default; exposing the router to a network is explicit.</summary>
    public string Host { get; init; } = "127.0.0.1";
    public int HttpPort { get; init; } = 8080;
    public int GrpcPort { get; init; } = 50051;
    public long MaxRequestBodyBytes { get; init; } = 10L * 1024 * 1024;
    /// <summary>Largest gRPC message accepted or sent.</summary>
    public int GrpcMaxMessageBytes { get; init; } = 4 * 1024 * 1024;
    /// <summary>
    /// Run socket completions, and the request code they resume, on the I/O threads instead of
    /// handing each one to the thread pool: a streamed token goes from the backend's socket to the
    /// client's without a thread switch. Safe because no request path blocks a thread.
    /// </summary>
    public bool InlineIo { get; init; } = true;
    /// <summary>
    /// Web origins allowed to call the router from a browser, besides this machine's own pages
    /// (localhost, 127.0.0.1 and app://, file://, tauri://, vscode-webview:// as Ollama allows):
    /// <c>https://chat.example</c>, <c>http://192.168.1.5:*</c>, <c>chrome-extension://*</c> or <c>*</c>.
    /// Any other origin is refused with a 403, so a web page cannot drive the router unasked.
    /// </summary>
    public ImmutableArray<string> AllowedOrigins { get; init; } = ImmutableArray<string>.Empty;
}

public sealed record RoutingConfig
{
    public EfficiencyMode DefaultMode { get; init; } = EfficiencyMode.Balanced;
    /// <summary>Legacy <c>power_aware</c>: weigh power in Balanced.</summary>
    public bool PowerAware { get; init; } = true;
    /// <summary>Legacy <c>auto_optimize</c>/<c>auto_optimize_latency</c>: start in Auto.</summary>
    public bool AutoOptimize { get; init; }
    /// <summary>Attempts per request including the first (fallback before the first byte).</summary>
    public int MaxAttempts { get; init; } = 3;
    /// <summary>How long a queued request may wait before it ages one priority level.</summary>
    public TimeSpan AgingInterval { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>Samples of live metrics before they replace configured characteristics.</summary>
    public int MinSamplesForLiveMetrics { get; init; } = 3;
    /// <summary>Expected answer length when a request does not say, for energy estimates.</summary>
    public int DefaultExpectedTokens { get; init; } = 128;
    /// <summary>
    /// A critical request that finds every slot busy takes the slot of a request running below
    /// this priority (which is shed: retried elsewhere before its first byte, else ended with a
    /// retryable error), lowest priority first. High (the default) preempts best effort, then
    /// normal work: in the routing simulation under 2× overload that keeps critical p99 at its
    /// unloaded value, where preempting best effort alone leaves it ~11× higher. Null never preempts.
    /// </summary>
    public Routing.Priority? CriticalPreemptsBelow { get; init; } = Routing.Priority.High;
}

public sealed record TelemetryConfig
{
    /// <summary>Root of the sysfs tree (tests point it at a fake tree).</summary>
    public string SysfsRoot { get; init; } = "/sys";
    public TimeSpan SampleInterval { get; init; } = TimeSpan.FromSeconds(2);
    /// <summary>Optional OTLP endpoint; null disables export.</summary>
    public Uri? OtlpEndpoint { get; init; }
    public bool NvidiaSmi { get; init; } = true;
}

public sealed record BackendTimeouts
{
    public TimeSpan Connect { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>From sending the request to the first byte of the answer (model load included).</summary>
    public TimeSpan FirstByte { get; init; } = TimeSpan.FromSeconds(120);
    /// <summary>Longest silence between two chunks of a streaming answer.</summary>
    public TimeSpan Idle { get; init; } = TimeSpan.FromSeconds(60);
}

public sealed record HealthCheckConfig
{
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Probe interval while unhealthy; doubles per failure up to <see cref="Interval"/>.</summary>
    public TimeSpan UnhealthyInterval { get; init; } = TimeSpan.FromSeconds(2);
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(3);
    /// <summary>Consecutive failed requests that eject the backend.</summary>
    public int EjectAfterFailures { get; init; } = 3;
    /// <summary>First ejection period; each repeated ejection doubles it, up to <see cref="MaxEjection"/>.</summary>
    public TimeSpan BaseEjection { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan MaxEjection { get; init; } = TimeSpan.FromMinutes(5);
    public TimeSpan ModelRefreshInterval { get; init; } = TimeSpan.FromSeconds(60);
}

/// <summary>Which sensors belong to a backend's device (names relative to the sysfs root).</summary>
public sealed record SensorConfig
{
    /// <summary>Thermal zone types or hwmon names/labels, e.g. <c>x86_pkg_temp</c>, <c>amdgpu</c>.</summary>
    public ImmutableArray<string> Temperature { get; init; } = ImmutableArray<string>.Empty;
    /// <summary>RAPL domain name for measured power, e.g. <c>package-0</c>, or <c>nvidia-smi</c>.</summary>
    public string? Power { get; init; }
    public double HotC { get; init; } = 80;
    public double LimitC { get; init; } = 95;
}

public sealed record BackendConfig
{
    public required string Id { get; init; }
    /// <summary><c>ollama</c> or <c>openai</c> (any OpenAI-compatible server).</summary>
    public string Type { get; init; } = "ollama";
    public string Name { get; init; } = "";
    public string Hardware { get; init; } = "cpu";
    public bool Enabled { get; init; } = true;
    public required Uri Endpoint { get; init; }
    public double PowerWatts { get; init; }
    public double AvgLatencyMs { get; init; }
    public int Priority { get; init; }
    public int MaxConcurrent { get; init; } = 1;
    /// <summary>Bound of the waiting queue per priority, indexed by <see cref="Routing.Priority"/>.</summary>
    public ImmutableArray<int> QueueLimits { get; init; } = ImmutableArray.Create(16, 64, 64, 64);
    /// <summary>Optional API key sent as a bearer token (OpenAI-compatible servers).</summary>
    public string? ApiKey { get; init; }
    public BackendTimeouts Timeouts { get; init; } = new();
    public HealthCheckConfig Health { get; init; } = new();
    public SensorConfig Sensors { get; init; } = new();
}

/// <summary>
/// The fleet (<c>cluster { }</c>): routers on several machines form one Akka.Cluster, share their
/// backends, and forward a request to the machine whose device is the better choice.
/// </summary>
public sealed record ClusterConfig
{
    /// <summary>The default remoting port when the configuration names none.</summary>
    public const int DefaultPort = 4053;

    /// <summary>Off: the router opens no port beyond HTTP and gRPC and sees only its own backends.</summary>
    public bool Enabled { get; init; }
    /// <summary>How this machine is named in the fleet (<c>node/backend</c>); the host name when not set.</summary>
    public string NodeName { get; init; } = "";
    /// <summary>Where remoting listens and what peers connect to. Loopback unless configured otherwise.</summary>
    public string Hostname { get; init; } = "127.0.0.1";
    public int Port { get; init; } = DefaultPort;
    /// <summary>
    /// Nodes to join, as <c>host:port</c> (or full <c>akka.tcp://…</c> addresses). Empty: this node
    /// founds a fleet of its own, which others join by naming it.
    /// </summary>
    public ImmutableArray<string> SeedNodes { get; init; } = ImmutableArray<string>.Empty;
    public ImmutableArray<string> Roles { get; init; } = ImmutableArray<string>.Empty;
    /// <summary>Allows remoting beyond loopback without TLS (a trusted network, or one encrypted below, such as WireGuard).</summary>
    public bool Insecure { get; init; }
    /// <summary>Carried by every forwarded HTTP request; a node refuses forwarded requests without it.</summary>
    public string SharedSecret { get; init; } = "";
    /// <summary>
    /// Energy drawn from a battery counts this many times the same energy from mains when the
    /// candidates of a request run on both (so a laptop on battery prefers a mains-powered
    /// machine's device). 1 makes them equal.
    /// </summary>
    public double BatteryEnergyWeight { get; init; } = 3;
    /// <summary>The URL peers forward requests to; null: <c>http://hostname:http-port</c>.</summary>
    public Uri? HttpEndpoint { get; init; }
    public ClusterSslConfig Ssl { get; init; } = new();
    public FailureDetectorConfig FailureDetector { get; init; } = new();
    public SplitBrainConfig SplitBrain { get; init; } = new();
    /// <summary>How long a node the fleet downed waits before it tries to join again.</summary>
    public TimeSpan RejoinAfter { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>How often each node measures its round trip to every other node.</summary>
    public TimeSpan RoundTripInterval { get; init; } = TimeSpan.FromSeconds(2);
    /// <summary>How often a node republishes its backends even when nothing changed (heals lost updates, greets late joiners).</summary>
    public TimeSpan PublishInterval { get; init; } = TimeSpan.FromSeconds(2);
}

/// <summary>TLS for remoting: a PKCS#12 certificate (with its private key) every node trusts.</summary>
public sealed record ClusterSslConfig
{
    /// <summary>Path of the PKCS#12 (.pfx/.p12) file; empty: no TLS.</summary>
    public string Certificate { get; init; } = "";
    public string Password { get; init; } = "";
    /// <summary>Accept certificates that do not chain to a trusted root (a fleet's own self-signed certificate).</summary>
    public bool SuppressValidation { get; init; }
    public bool Enabled => Certificate.Length > 0;
}

/// <summary>Akka.Cluster's failure detector: how soon an unreachable node's backends leave routing.</summary>
public sealed record FailureDetectorConfig
{
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>Silence tolerated before a node counts as unreachable (its backends leave routing then).</summary>
    public TimeSpan AcceptableHeartbeatPause { get; init; } = TimeSpan.FromSeconds(3);
}

/// <summary>Akka.Cluster's split-brain resolver: which side of a partition stays, and when.</summary>
public sealed record SplitBrainConfig
{
    /// <summary><c>keep-majority</c> (three or more machines) or <c>keep-oldest</c> (two).</summary>
    public string Strategy { get; init; } = "keep-majority";
    /// <summary>How long membership must be stable before the resolver downs the unreachable side.</summary>
    public TimeSpan StableAfter { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>keep-oldest only: the oldest node, alone on its side, downs itself instead of the others.</summary>
    public bool DownIfAlone { get; init; }
}
