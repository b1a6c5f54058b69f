namespace Router.Actors.Config;

/// <summary>
/// The settings the HOCON format knows, by section, in kebab-case. The binder rejects any other key
/// and the environment overrides are derived from these lists, so the two never disagree.
/// </summary>
internal static class ConfigSchema
{
    public const string Server = "server";
    public const string Routing = "routing";
    public const string Telemetry = "telemetry";
    public const string DBus = "dbus";
    public const string Desktop = "desktop";
    public const string BackendDefaults = "backend-defaults";
    public const string Backends = "backends";
    public const string Cluster = "cluster";
    /// <summary>Akka.NET's own settings, handed to the actor system as they are (not checked here).</summary>
    public const string Akka = "akka";

    public static readonly string[] RootKeys = [Server, Routing, Telemetry, DBus, Desktop, BackendDefaults, Backends, Cluster, Akka];

    public static readonly string[] ServerKeys =
    [
        "host", "http-port", "grpc-port", "max-request-body", "grpc-max-message", "inline-io", "allowed-origins",
        "api-keys", "insecure", "allowed-hosts", "drain-timeout",
    ];

    public const string MaxQueueWait = "max-queue-wait";
    public const string WaitBudget = "wait-budget";


    public static readonly string[] RoutingKeys =
    [
        "default-mode", "power-aware", "auto-optimize", "max-attempts", "aging-interval",
        "min-samples-for-live-metrics", "default-expected-tokens", "critical-preempts-below",
        MaxQueueWait, "panic-threshold", WaitBudget,
    ];

    /// <summary>Every leaf setting of <c>routing</c> as a relative path, e.g. <c>max-queue-wait.normal</c> (for environment overrides).</summary>
    public static IEnumerable<string> RoutingLeafPaths() =>
        LeafPaths(RoutingKeys, static key => key is MaxQueueWait or WaitBudget ? QueueLimitKeys : null);

    public static readonly string[] TelemetryKeys = ["sysfs-root", "sample-interval", "otlp-endpoint", "nvidia-smi"];

    public static readonly string[] DBusKeys = ["enabled", "require-name", "request-routed-signal", "request-routed-per-second"];

    public static readonly string[] DesktopKeys = ["notifications", "notification-interval", "power-state"];

    public const string ClusterSsl = "ssl";
    public const string ClusterFailureDetector = "failure-detector";
    public const string ClusterSplitBrain = "split-brain-resolver";

    public static readonly string[] ClusterKeys =
    [
        "enabled", "node-name", "hostname", "port", "seed-nodes", "roles", "insecure", "shared-secret",
        "battery-energy-weight", "http-endpoint", "rejoin-after", "round-trip-interval", "publish-interval",
        ClusterSsl, ClusterFailureDetector, ClusterSplitBrain,
    ];

    public static readonly string[] ClusterSslKeys = ["certificate", "password"];
    public static readonly string[] ClusterFailureDetectorKeys = ["heartbeat-interval", "acceptable-heartbeat-pause"];
    public static readonly string[] ClusterSplitBrainKeys = ["strategy", "stable-after", "down-if-alone"];
    public static readonly string[] SplitBrainStrategies = ["keep-majority", "keep-oldest"];

    /// <summary>Every leaf setting of the cluster section as a relative path, e.g. <c>ssl.certificate</c>.</summary>
    public static IEnumerable<string> ClusterLeafPaths() => LeafPaths(ClusterKeys, static key => key switch
    {
        ClusterSsl => ClusterSslKeys,
        ClusterFailureDetector => ClusterFailureDetectorKeys,
        ClusterSplitBrain => ClusterSplitBrainKeys,
        _ => null,
    });

    public const string QueueLimits = "queue-limits";
    public const string Timeouts = "timeouts";
    public const string Health = "health";
    public const string Sensors = "sensors";

    public static readonly string[] BackendKeys =
    [
        "id", "type", "name", "hardware", "enabled", "endpoint", "power-watts", "avg-latency-ms", "priority",
        "max-concurrent", QueueLimits, "api-key", Timeouts, Health, Sensors,
    ];

    /// <summary>In <see cref="Routing.Priority"/> order, the index into <see cref="BackendConfig.QueueLimits"/>.</summary>
    public static readonly string[] QueueLimitKeys = [.. global::Router.Actors.Routing.WireNames.PriorityNames];

    public static readonly string[] TimeoutKeys = ["connect", "first-byte", "idle"];

    public static readonly string[] HealthKeys =
    [
        "interval", "unhealthy-interval", "timeout", "eject-after-failures", "base-ejection", "max-ejection",
        "ejection-decay", "model-refresh-interval",
    ];

    public static readonly string[] SensorKeys = ["temperature", "power", "hot-c", "limit-c"];

    public static readonly string[] BackendTypes = ["ollama", "openai"];

    /// <summary>Every leaf setting of one backend as a relative path, e.g. <c>timeouts.connect</c>.</summary>
    public static IEnumerable<string> BackendLeafPaths() => LeafPaths(BackendKeys, static key => key switch
    {
        QueueLimits => QueueLimitKeys,
        Timeouts => TimeoutKeys,
        Health => HealthKeys,
        Sensors => SensorKeys,
        _ => null,
    });

    /// <summary>The keys of a section, each subsection's keys in its place as <c>subsection.key</c>.</summary>
    private static IEnumerable<string> LeafPaths(string[] keys, Func<string, string[]?> subsectionKeys)
    {
        foreach (var key in keys)
        {
            if (subsectionKeys(key) is not { } children)
            {
                yield return key;
                continue;
            }

            foreach (var child in children)
            {
                yield return key + "." + child;
            }
        }
    }
}
