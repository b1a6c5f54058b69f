using Router.Actors.Backends;
using Router.Actors.Routing;

namespace Router.Actors.Inference;

/// <summary>One finished request, for metrics and energy accounting.</summary>
/// <param name="BusySince">When the backend slot was granted: the start of the interval the device worked on it.</param>
public sealed record RequestRecord(
    string BackendId,
    string Reason,
    Priority Priority,
    CallOutcome Outcome,
    GenerationStats Stats,
    bool Streaming,
    string? Model,
    DateTimeOffset BusySince,
    double ConfiguredPowerWatts)
{
    /// <summary>The caller's request id (X-Request-ID, the WebSocket's request_id), when it gave one.</summary>
    public string? RequestId { get; init; }
}

/// <summary>Sees every finished request (metrics, energy totals). Must be cheap and must not throw.</summary>
public interface IRequestObserver
{
    void OnRequestFinished(RequestRecord record);
    /// <summary>A request that got no backend at all (routing failure).</summary>
    void OnRequestRejected(RouteFailureKind kind, Priority priority);
}
