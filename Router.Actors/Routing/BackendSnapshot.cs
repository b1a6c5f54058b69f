using System.Collections.Immutable;

namespace Router.Actors.Routing;

/// <summary>Live figures for one model on one backend (exponentially weighted moving averages).</summary>
public sealed record ModelMetrics(double TimeToFirstTokenMs, double TokensPerSecond, int Samples);

/// <summary>
/// An immutable picture of one backend, published by its BackendActor whenever its state changes
/// and pushed to the selector. The scorer reads nothing else about a backend.
/// </summary>
public sealed record BackendSnapshot
{
    public required string Id { get; init; }
    public string Name { get; init; } = "";
    /// <summary>Backend protocol: <c>ollama</c> or <c>openai</c>.</summary>
    public string Type { get; init; } = "ollama";
    /// <summary>Device kind: <c>npu</c>, <c>igpu</c>, <c>nvidia</c>, <c>cpu</c> or anything the config names.</summary>
    public string Hardware { get; init; } = "";
    /// <summary>False when the configuration disables the backend; the scorer never picks it.</summary>
    public bool Enabled { get; init; } = true;
    public BackendHealth Health { get; init; } = BackendHealth.Unknown;
    public string? StatusMessage { get; init; }
    public DateTimeOffset? LastCheck { get; init; }

    /// <summary>Configured power draw while busy, in watts.</summary>
    public double PowerWatts { get; init; }
    /// <summary>Configured time to first token for a small model, in milliseconds.</summary>
    public double AvgLatencyMs { get; init; }
    /// <summary>Configured preference among otherwise equal backends (higher wins).</summary>
    public int ConfiguredPriority { get; init; }

    public int MaxConcurrent { get; init; } = 1;
    public int InFlight { get; init; }
    /// <summary>
    /// Requests in flight per priority, indexed like <see cref="QueueDepthByPriority"/>; default
    /// (empty) when the backend does not report it. Read only when backends preempt
    /// (<see cref="ScoringOptions.CriticalPreemptsBelow"/>).
    /// </summary>
    public ImmutableArray<int> InFlightByPriority { get; init; }
    /// <summary>Waiting requests per priority, indexed by <see cref="Routing.Priority"/> (length 4).</summary>
    public ImmutableArray<int> QueueDepthByPriority { get; init; } = ImmutableArray.Create(0, 0, 0, 0);
    /// <summary>Per-priority queue bounds, indexed like <see cref="QueueDepthByPriority"/>.</summary>
    public ImmutableArray<int> QueueLimitByPriority { get; init; } = ImmutableArray.Create(64, 64, 64, 64);

    /// <summary>Models the backend holds (from its model list). Empty until the first refresh.</summary>
    public ImmutableHashSet<string> Models { get; init; } = ImmutableHashSet<string>.Empty;
    /// <summary>True once the model list has been read at least once.</summary>
    public bool ModelsKnown { get; init; }
    public ImmutableDictionary<string, ModelMetrics> MetricsByModel { get; init; } = ImmutableDictionary<string, ModelMetrics>.Empty;
    /// <summary>Share of recent requests that failed, 0..1.</summary>
    public double ErrorRate { get; init; }
    public long RequestsTotal { get; init; }
    public long FailuresTotal { get; init; }
    /// <summary>Requests whose slot a critical request took (load shedding).</summary>
    public long PreemptedTotal { get; init; }
    /// <summary>Monotonic per backend, so receivers can drop stale snapshots.</summary>
    public long Version { get; init; }

    /// <summary>
    /// The fleet node that owns the backend, or null for this router's own. A remote backend's
    /// <see cref="Id"/> is <c>node/backend</c>.
    /// </summary>
    public string? Node { get; init; }
    /// <summary>Measured round trip to <see cref="Node"/>: added to every latency estimate (0 for local backends).</summary>
    public double NetworkRoundTripMs { get; init; }
    /// <summary>How <see cref="Node"/> is powered; null for local backends, whose power is in <see cref="SystemState"/>.</summary>
    public NodePowerState? NodePower { get; init; }
    /// <summary>A remote backend's device temperature as its node published it; local ones are in <see cref="SystemState.ThermalByBackend"/>.</summary>
    public DeviceThermal? Thermal { get; init; }
}

/// <summary>How a fleet node is powered, as it publishes it with its backends.</summary>
/// <param name="Hot">Its hottest sensor is at or above its hot threshold, or it throttles.</param>
public sealed record NodePowerState(bool OnAcPower, double? BatteryPercent, bool Hot);
