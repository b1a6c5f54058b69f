using Router.Actors.Routing;
using Router.Gateway.Grpc.Contracts.Compute;

namespace Router.Gateway.Grpc.Services;

/// <summary>
/// JobAnnotations → RoutingHints: the same hints the HTTP headers produce, so routing does not
/// depend on the surface. Pure: a bad annotation is a value naming the field.
/// </summary>
internal static class AnnotationMapper
{
    public const string MediaTypeKey = "media_type";
    public const string RequestIdKey = "request_id";

    /// <returns>Null on success, else the INVALID_ARGUMENT message.</returns>
    public static string? TryMap(JobAnnotations? annotations, out RoutingHints hints)
    {
        hints = RoutingHints.Default;
        if (annotations is null)
        {
            return null;
        }

        if (annotations.MaxLatencyMs < 0)
        {
            return $"annotations.max_latency_ms must be 0 (no limit) or positive, not {annotations.MaxLatencyMs}.";
        }

        if (annotations.MaxPowerWatts < 0)
        {
            return $"annotations.max_power_watts must be 0 (no limit) or positive, not {annotations.MaxPowerWatts}.";
        }

        var priority = Priority.Normal;
        if (annotations.HasPriority)
        {
            if (annotations.Priority is < (int)Priority.BestEffort or > (int)Priority.Critical)
            {
                return $"annotations.priority must be 0 (best effort), 1 (normal), 2 (high) or 3 (critical), not {annotations.Priority}.";
            }

            priority = (Priority)annotations.Priority;
        }

        hints = new RoutingHints
        {
            Target = NullIfEmpty(annotations.Target),
            LatencyCritical = annotations.LatencyCritical,
            PreferPowerEfficiency = annotations.PreferPowerEfficiency,
            MaxLatencyMs = annotations.MaxLatencyMs > 0 ? annotations.MaxLatencyMs : null,
            MaxPowerWatts = annotations.MaxPowerWatts > 0 ? annotations.MaxPowerWatts : null,
            Priority = priority,
            MediaType = annotations.Custom.TryGetValue(MediaTypeKey, out var media) ? NullIfEmpty(media) : null,
            RequestId = annotations.Custom.TryGetValue(RequestIdKey, out var id) ? NullIfEmpty(id) : null,
        };
        return null;
    }

    /// <summary>Throws INVALID_ARGUMENT for a bad annotation.</summary>
    public static RoutingHints Map(JobAnnotations? annotations) =>
        TryMap(annotations, out var hints) is { } error
            ? throw GrpcErrors.InvalidArgument(error)
            : hints;

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;
}
