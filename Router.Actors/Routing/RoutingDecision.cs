using System.Collections.Immutable;

namespace Router.Actors.Routing;

/// <summary>Reason codes carried by a decision (X-Routing-Reason, gRPC RoutingMetadata.reason).</summary>
public static class RouteReasons
{
    public const string ExplicitTarget = "explicit-target";
    public const string LatencyCritical = "latency-critical";
    public const string PowerEfficient = "power-efficient";
    public const string OnlyCandidate = "only-candidate";
    public const string Fallback = "fallback";
    public const string ModePerformance = "mode-performance";
    public const string ModeBalanced = "mode-balanced";
    public const string ModeEfficiency = "mode-efficiency";
    public const string ModeQuiet = "mode-quiet";
    public const string ModeUltraEfficiency = "mode-ultra-efficiency";
    /// <summary>A critical request on a device the mode's caps leave out: nothing within them could serve it within its wait budget.</summary>
    public const string CriticalBeyondMode = "critical-beyond-mode";
}

/// <summary>The estimates behind a choice.</summary>
/// <param name="LatencyMs">Expected time to first token including the queue ahead.</param>
/// <param name="PowerWatts">Expected power draw while serving.</param>
/// <param name="EnergyWh">Expected energy of the request: power × expected busy time.</param>
public sealed record RouteEstimate(double LatencyMs, double PowerWatts, double EnergyWh);

/// <summary>Where a request goes, why, and what comes next if it fails before its first byte.</summary>
public sealed record RoutingDecision(
    string BackendId,
    string Reason,
    ImmutableArray<string> Alternatives,
    RouteEstimate Estimate,
    EfficiencyMode EffectiveMode)
{
    /// <summary>Estimates for the alternatives, in the same order.</summary>
    public ImmutableArray<RouteEstimate> AlternativeEstimates { get; init; } = ImmutableArray<RouteEstimate>.Empty;
    /// <summary>Backends tried before this one for the same request (fallback), oldest first.</summary>
    public ImmutableArray<string> Attempted { get; init; } = ImmutableArray<string>.Empty;
}

/// <summary>Why nothing can serve a request. Each kind maps to one status per protocol in the gateway.</summary>
public enum RouteFailureKind
{
    /// <summary>The explicit target names no configured backend or hardware kind (400).</summary>
    UnknownTarget,
    /// <summary>No healthy backend holds the model (404).</summary>
    ModelNotAvailable,
    /// <summary>No backend is healthy (503).</summary>
    NoHealthyBackend,
    /// <summary>All candidates exceed the request's power budget (503).</summary>
    PowerBudgetExceeded,
    /// <summary>All candidates exceed the request's latency budget (503).</summary>
    LatencyBudgetExceeded,
    /// <summary>The mode in effect excludes every candidate (503).</summary>
    ExcludedByMode,
    /// <summary>Every candidate's device is above its temperature limit (503).</summary>
    TooHot,
    /// <summary>The queue is full at the request's priority on every candidate (429).</summary>
    QueueFull,
}

/// <summary>A routing failure as a value: kind, a message that says what to do, and when to retry.</summary>
public sealed record RouteFailure(RouteFailureKind Kind, string Message, TimeSpan? RetryAfter = null);
