
namespace Router.Actors.Routing;

public static partial class Scorer
{
    /// <summary>
    /// Requests that must finish before this one starts: those waiting at its priority or higher
    /// (a free slot goes to the highest priority first, so lower ones are not ahead of it), plus
    /// one in-flight request when every slot is taken. With max-concurrent 1: an idle backend
    /// gives 0; a busy one with nothing waiting gives 1. When backends preempt for critical
    /// requests, a critical request does not wait for what it would preempt.
    /// </summary>
    internal static int QueueAhead(BackendSnapshot backend, Priority priority, Priority? criticalPreemptsBelow = null)
    {
        int waiting = 0;
        var depths = backend.QueueDepthByPriority;
        if (!depths.IsDefault)
        {
            for (int p = (int)priority; p < depths.Length; p++)
            {
                waiting += Math.Max(0, depths[p]);
            }
        }

        int inFlight = backend.InFlight;
        if (priority == Priority.Critical && criticalPreemptsBelow is { } below && !backend.InFlightByPriority.IsDefault)
        {
            // The backend cancels what runs below the threshold for a critical request.
            inFlight = 0;
            for (int p = (int)below; p < backend.InFlightByPriority.Length; p++)
            {
                inFlight += Math.Max(0, backend.InFlightByPriority[p]);
            }
        }

        int slots = Math.Max(1, backend.MaxConcurrent);
        return Math.Max(0, waiting + inFlight - slots + 1);
    }

    /// <summary>
    /// Time to first token and generation speed from live metrics once the model has enough
    /// samples, else from the configured latency and the hardware's default speed. Expected
    /// latency = wait + time to first token, wait = requests ahead × service time / slots;
    /// busy time = time to first token + tokens / tokens per second.
    /// </summary>
    private static Estimate EstimateFor(BackendSnapshot backend, in Inputs inputs)
    {
        double ttftMs = backend.AvgLatencyMs;
        double tokensPerSecond = inputs.Options.DefaultTokensPerSecond(backend.Hardware);
        if (TryGetLiveMetrics(backend, in inputs, out ModelMetrics? live))
        {
            if (live.TimeToFirstTokenMs > 0)
            {
                ttftMs = live.TimeToFirstTokenMs;
            }

            if (live.TokensPerSecond > 0)
            {
                tokensPerSecond = live.TokensPerSecond;
            }
        }

        double serviceMs = Math.Max(0, ttftMs) + (inputs.Tokens * 1000.0 / tokensPerSecond);
        int ahead = QueueAhead(backend, inputs.Priority, inputs.Options.CriticalPreemptsBelow);
        double waitMs = ahead * serviceMs / Math.Max(1, backend.MaxConcurrent);
        return new Estimate(Math.Max(0, ttftMs), serviceMs, waitMs, ahead, Math.Max(0, backend.NetworkRoundTripMs));
    }

    private static bool TryGetLiveMetrics(BackendSnapshot backend, in Inputs inputs, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ModelMetrics? metrics)
    {
        metrics = null;
        if (inputs.Model is null || backend.MetricsByModel.IsEmpty)
        {
            return false;
        }

        if (!backend.MetricsByModel.TryGetValue(inputs.Model, out metrics)
            && (inputs.ModelWithLatestTag is null || !backend.MetricsByModel.TryGetValue(inputs.ModelWithLatestTag, out metrics)))
        {
            return false;
        }

        return metrics.Samples >= inputs.Options.MinSamples;
    }

    private static DeviceThermal? ThermalOf(BackendSnapshot backend, SystemState state) =>
        backend.Node is not null ? backend.Thermal
        : state.ThermalByBackend.TryGetValue(backend.Id, out DeviceThermal? thermal) ? thermal : null;

    /// <summary>Whether the device's energy comes from a battery: its node's, or this machine's for a local backend.</summary>
    private static bool OnBattery(BackendSnapshot backend, SystemState state) =>
        backend.NodePower is { } power ? !power.OnAcPower : !state.OnAcPower;

    private static bool IsHot(BackendSnapshot backend, SystemState state) =>
        ThermalOf(backend, state) is { TemperatureC: { } c } thermal && c >= thermal.HotC;

    private static bool IsAboveLimit(BackendSnapshot backend, SystemState state) =>
        ThermalOf(backend, state) is { TemperatureC: { } c } thermal && c > thermal.LimitC;

    /// <summary>1 up to the hot threshold, then rising linearly to 1 + HotPenalty at the limit.</summary>
    private static double HeatFactor(BackendSnapshot backend, in Inputs inputs)
    {
        if (ThermalOf(backend, inputs.State) is not { TemperatureC: { } c } thermal || c <= thermal.HotC)
        {
            return 1;
        }

        double span = Math.Max(1, thermal.LimitC - thermal.HotC);
        return 1 + (inputs.Options.HotPenalty * Math.Min(1, (c - thermal.HotC) / span));
    }

    /// <summary>The figures behind one candidate, in milliseconds.</summary>
    /// <param name="NetworkMs">The round trip to the fleet node that owns the backend (0 for local ones).</param>
    private readonly record struct Estimate(double TtftMs, double ServiceMs, double WaitMs, int QueueAhead, double NetworkMs = 0)
    {
        /// <summary>Expected time to first token, queue and network included.</summary>
        public double LatencyMs => WaitMs + TtftMs + NetworkMs;

        /// <summary>Expected time to the last token, queue and network included.</summary>
        public double CompletionMs => WaitMs + ServiceMs + NetworkMs;

        /// <summary>Power × busy time (the queue costs this request no energy).</summary>
        public double EnergyWh(double powerWatts) => powerWatts * ServiceMs / 3_600_000.0;

        public RouteEstimate ToRouteEstimate(double powerWatts) => new(LatencyMs, powerWatts, EnergyWh(powerWatts));
    }
}
