using System.Collections.Immutable;
using Router.Actors.Routing;

namespace Router.Actors.Config;

/// <summary>The whole configuration, immutable. Built by the HOCON or legacy YAML loader.</summary>
public sealed record RouterConfig
{
    public ServerConfig Server { get; init; } = new();
    public RoutingConfig Routing { get; init; } = new();
    public TelemetryConfig Telemetry { get; init; } = new();
    public DBusConfig DBus { get; init; } = new();
    public DesktopConfig Desktop { get; init; } = new();
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
    /// On stop (SIGTERM, Ctrl+C): how long the requests in flight may go on before each is ended in
    /// its own protocol. New work is refused from the start of the stop. Keep it below the service
    /// unit's TimeoutStopSec.
    /// </summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>
    /// Web origins allowed to call the router from a browser, besides this machine's own pages
    /// (localhost, 127.0.0.1 and app://, file://, tauri://, vscode-webview:// as Ollama allows):
    /// <c>https://chat.example</c>, <c>http://192.168.1.5:*</c>, <c>chrome-extension://*</c> or <c>*</c>.
    /// Any other origin is refused with a 403, so a web page cannot drive the router unasked.
    /// </summary>
    public ImmutableArray<string> AllowedOrigins { get; init; } = ImmutableArray<string>.Empty;
    /// <summary>
    /// Keys a client must present on every endpoint when any is set: <c>Authorization: Bearer</c>
    /// on HTTP (and on the WebSocket, or as a subprotocol from a browser), <c>authorization</c>
    /// metadata on gRPC. Required when <see cref="Host"/> reaches beyond this machine, unless
    /// <see cref="Insecure"/>.
    /// </summary>
    public ImmutableArray<string> ApiKeys { get; init; } = ImmutableArray<string>.Empty;
    /// <summary>Serve beyond this machine without API keys (a network where everyone is trusted).</summary>
    public bool Insecure { get; init; }
    /// <summary>
    /// Host names clients may reach the router by, besides localhost, <c>*.localhost</c>, this
    /// machine's name and IP addresses: <c>router.lan</c>, <c>*.example.com</c>, or <c>*</c> for any.
    /// A request for any other name is refused (403), so a web page that rebinds its own name to
    /// this machine's address cannot read the router's answers.
    /// </summary>
    public ImmutableArray<string> AllowedHosts { get; init; } = ImmutableArray<string>.Empty;

    /// <summary>Whether <see cref="Host"/> binds to this machine only (a loopback address or <c>localhost</c>).</summary>
    public bool IsLoopbackOnly =>
        string.Equals(Host, "localhost", StringComparison.OrdinalIgnoreCase)
        || (System.Net.IPAddress.TryParse(Host, out var address) && System.Net.IPAddress.IsLoopback(address));
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
    /// normal work: under overload the best-effort slots alone are often too few or already
    /// taken, and critical work would wait behind normal work after all (scripts/bench-routing
    /// measures it). Null never preempts.
    /// </summary>
    public Routing.Priority? CriticalPreemptsBelow { get; init; } = Routing.Priority.High;

    /// <summary>
    /// Longest a request waits in a backend's queue, per priority (indexed by <see cref="Routing.Priority"/>),
    /// before it moves on to the next alternative; a request's own latency budget (X-Max-Latency-Ms)
    /// shortens it. Queued behind a device that stopped answering, a request would otherwise wait
    /// out every first-byte timeout ahead of it.
    /// </summary>
    public QueueWaits MaxQueueWait { get; init; } = new(TimeSpan.FromSeconds(120), TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(15));

    /// <summary>
    /// The longest expected queue wait the scorer accepts per priority before it prefers another
    /// device (<see cref="Routing.ScoringOptions.WaitBudget"/>): a preference at routing time, where
    /// <see cref="MaxQueueWait"/> is the bound at which a request already queued moves on.
    /// </summary>
    public QueueWaits WaitBudget { get; init; } = DefaultWaitBudget;

    /// <summary>The default wait budget: see hocon/router.conf (routing.wait-budget) for why these figures.</summary>
    public static readonly QueueWaits DefaultWaitBudget = new(TimeSpan.FromSeconds(100), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(500));

    /// <summary>
    /// The largest share of backends that may be ejected at once (Envoy's panic threshold): a
    /// backend whose failures would eject it past this share stays in service, so failures that
    /// are really the requests' own can never take the whole router down. 0.5 by default.
    /// </summary>
    public double PanicThreshold { get; init; } = 0.5;

    /// <summary>How long a request of <paramref name="priority"/> may wait in a queue, at most.</summary>
    public TimeSpan QueueWaitFor(Routing.Priority priority) => MaxQueueWait.For(priority);
}

/// <summary>A wait per request priority.</summary>
public readonly record struct QueueWaits(TimeSpan BestEffort, TimeSpan Normal, TimeSpan High, TimeSpan Critical)
{
    public TimeSpan For(Routing.Priority priority) => priority switch
    {
        Routing.Priority.BestEffort => BestEffort,
        Routing.Priority.Normal => Normal,
        Routing.Priority.High => High,
        _ => Critical,
    };
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

/// <summary>The router on the session bus (ie.fio.OllamaProxy).</summary>
public sealed record DBusConfig
{
    /// <summary>Export the router on the session bus when one is reachable (else D-Bus stays off, with one info line).</summary>
    public bool Enabled { get; init; } = true;
    /// <summary>
    /// When another process owns the bus name: true stops the daemon with a message (the default:
    /// two daemons of one user would answer the desktop from one and route from the other); false
    /// runs on without D-Bus.
    /// </summary>
    public bool RequireName { get; init; } = true;
    /// <summary>Send RequestRouted for each routed request (off by default; a script can turn it on at run time).</summary>
    public bool RequestRoutedSignal { get; init; }
    /// <summary>At most this many RequestRouted signals a second; requests beyond it are counted, not signalled.</summary>
    public int RequestRoutedPerSecond { get; init; } = 10;
}

/// <summary>What the router reads from and tells the desktop.</summary>
public sealed record DesktopConfig
{
    /// <summary>Send a desktop notification when Auto changes the mode in effect or a device crosses its thermal limit.</summary>
    public bool Notifications { get; init; } = true;
    /// <summary>At most one notification per this interval; the ones in between are dropped.</summary>
    public TimeSpan NotificationInterval { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Read AC, battery and the power profile from UPower and power-profiles-daemon on the system bus where they run (else sysfs).</summary>
    public bool PowerState { get; init; } = true;
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
    /// <summary>After each such stretch without an ejection, the next ejection period halves again (one doubling undone).</summary>
    public TimeSpan EjectionDecay { get; init; } = TimeSpan.FromMinutes(1);
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

/// <summary>TLS for remoting: one PKCS#12 certificate (with its private key), the same on every node; peers presenting another are refused.</summary>
public sealed record ClusterSslConfig
{
    /// <summary>Path of the PKCS#12 (.pfx/.p12) file; empty: no TLS.</summary>
    public string Certificate { get; init; } = "";
    public string Password { get; init; } = "";
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
