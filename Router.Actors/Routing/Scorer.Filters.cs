
namespace Router.Actors.Routing;

public static partial class Scorer
{
    private const int FilterCount = 9;

    /// <summary>The hard filters, applied in this order.</summary>
    private enum Filter
    {
        /// <summary>Enabled, and of a type that can serve the call (Ollama-native calls need <c>ollama</c>).</summary>
        EnabledAndType,
        /// <summary>Not Unhealthy or Ejected (Unknown passes here; see the last-resort step).</summary>
        Health,
        /// <summary>Not already tried for this request.</summary>
        Excluded,
        /// <summary>Holds the model, when the backend's model list has been read.</summary>
        Model,
        /// <summary>Power draw within the request's max power.</summary>
        MaxPower,
        /// <summary>Expected latency, queue included, within the request's max latency.</summary>
        MaxLatency,
        /// <summary>The mode's caps: Ultra Efficiency under 10 W; Quiet not above 15 W (ScoringOptions.QuietMaxWatts) and not hot.</summary>
        ModeCap,
        /// <summary>Device not above its temperature limit.</summary>
        Heat,
        /// <summary>Room in the queue at the request's priority.</summary>
        QueueFull,
    }

    private static bool Passes(Filter filter, BackendSnapshot backend, in Estimate estimate, in Inputs inputs) => filter switch
    {
        Filter.EnabledAndType => backend.Enabled && IsAcceptableType(backend, inputs.Request),
        Filter.Health => backend.Health is BackendHealth.Healthy or BackendHealth.Degraded or BackendHealth.Unknown,
        Filter.Excluded => !IsExcluded(backend, inputs.Request),
        Filter.Model => HoldsModel(backend, in inputs),
        Filter.MaxPower => inputs.Request.Hints.MaxPowerWatts is not { } maxW || backend.PowerWatts <= maxW,
        Filter.MaxLatency => inputs.Request.Hints.MaxLatencyMs is not { } maxMs || estimate.LatencyMs <= maxMs,
        Filter.ModeCap => WithinModeCap(backend, in inputs),
        Filter.Heat => !IsAboveLimit(backend, inputs.State),
        Filter.QueueFull => !IsQueueFull(backend, inputs.Priority),
        _ => throw new System.Diagnostics.UnreachableException(),
    };

    private static bool IsAcceptableType(BackendSnapshot backend, RouteRequest request)
    {
        if (request.AcceptableTypes is not { IsDefault: false } types)
        {
            return true;
        }

        foreach (string type in types)
        {
            if (string.Equals(type, backend.Type, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsExcluded(BackendSnapshot backend, RouteRequest request)
    {
        if (request.ExcludedBackendIds.IsDefaultOrEmpty)
        {
            return false;
        }

        foreach (string id in request.ExcludedBackendIds)
        {
            if (string.Equals(id, backend.Id, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A backend whose model list has not been read yet may hold the model: it passes.</summary>
    private static bool HoldsModel(BackendSnapshot backend, in Inputs inputs) =>
        inputs.Model is null
        || !backend.ModelsKnown
        || backend.Models.Contains(inputs.Model)
        || (inputs.ModelWithLatestTag is not null && backend.Models.Contains(inputs.ModelWithLatestTag));

    private static bool WithinModeCap(BackendSnapshot backend, in Inputs inputs) => inputs.Mode switch
    {
        EfficiencyMode.UltraEfficiency => backend.PowerWatts < inputs.Options.UltraEfficiencyMaxWatts,
        EfficiencyMode.Quiet => backend.PowerWatts <= inputs.Options.QuietMaxWatts && !IsHot(backend, inputs.State),
        _ => true,
    };

    private static bool IsQueueFull(BackendSnapshot backend, Priority priority)
    {
        int p = (int)priority;
        var depths = backend.QueueDepthByPriority;
        var limits = backend.QueueLimitByPriority;
        if (depths.IsDefault || limits.IsDefault || p >= depths.Length || p >= limits.Length)
        {
            return false;
        }

        // A request that finds a free slot never queues, whatever the queue bound says.
        bool freeSlot = backend.InFlight < Math.Max(1, backend.MaxConcurrent) && depths[p] == 0;
        return !freeSlot && depths[p] >= limits[p];
    }
}
