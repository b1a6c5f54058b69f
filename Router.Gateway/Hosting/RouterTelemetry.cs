using Router.Actors.Backends;
using Router.Actors.Config;
using Router.Actors.Inference;
using Router.Actors.Routing;
using Router.Actors.Runtime;
using Router.Telemetry.Energy;
using Router.Telemetry.Exposition;
using Router.Telemetry.Metrics;

namespace Router.Gateway.Hosting;

/// <summary>
/// The daemon's metrics: the OllamaProxy meter, the gauges' state kept current from the event
/// stream, the Prometheus exposition, and the OTLP exporter when an endpoint is configured.
/// Sees every finished request as the pipeline's observer.
/// </summary>
internal sealed class RouterTelemetry : IRequestObserver, IDisposable
{
    private readonly RouterMetrics _metrics;
    private readonly IDisposable? _otlp;

    private RouterTelemetry(RouterMetrics metrics, PrometheusExporter exporter, IDisposable? otlp)
    {
        _metrics = metrics;
        Exporter = exporter;
        _otlp = otlp;
    }

    public PrometheusExporter Exporter { get; }
    public RouterMetricsState State => _metrics.State;

    /// <summary>Creates the meter and makes itself the runtime's request observer.</summary>
    public static RouterTelemetry Create(RouterConfig config, ref RouterRuntimeOptions runtime)
    {
        var metrics = new RouterMetrics(new RouterMetricsState());
        var exporter = new PrometheusExporter(metrics.Meter);
        var otlp = Router.Telemetry.TelemetrySetup.CreateOtlpMeterProviderIfConfigured(config.Telemetry);
        var telemetry = new RouterTelemetry(metrics, exporter, otlp);
        runtime = runtime with { Observer = telemetry };
        return telemetry;
    }

    /// <summary>Keeps the gauges current from what the actors publish.</summary>
    public void Attach(RouterRuntime runtime)
    {
        var state = _metrics.State;
        runtime.Observe<BackendSnapshot>("metrics-backends", state.UpdateBackend);
        runtime.Observe<SystemState>("metrics-system", state.UpdateSystemState);
    }

    public void OnRequestFinished(RequestRecord record)
    {
        var outcome = record.Outcome switch
        {
            CallOutcome.Succeeded => RequestOutcomes.Success,
            CallOutcome.Cancelled => RequestOutcomes.Cancelled,
            _ => RequestOutcomes.Error,
        };
        var stats = record.Stats;
        _metrics.RecordCompletion(new RequestCompletion(
            record.BackendId,
            record.Reason,
            record.Priority,
            outcome,
            TimeSpan.FromMilliseconds(stats.TotalTimeMs),
            stats.TokensGenerated > 0 ? TimeSpan.FromMilliseconds(stats.TimeToFirstTokenMs) : null,
            0,
            stats.TokensGenerated,
            stats.EnergyWh > 0 ? Estimated(record.BackendId, stats) : null));
    }

    private static EnergyMeasurement Estimated(string backendId, GenerationStats stats)
    {
        var busy = TimeSpan.FromMilliseconds(stats.TotalTimeMs);
        var watts = busy > TimeSpan.Zero ? stats.EnergyWh * 3600 / busy.TotalSeconds : 0;
        return new EnergyMeasurement(backendId, stats.EnergyWh, EnergyBasis.Estimated, busy, watts);
    }

    public void OnRequestRejected(RouteFailureKind kind, Priority priority) =>
        _metrics.RecordRequest("none", RejectionReason(kind), priority, RequestOutcomes.Rejected);

    private static string RejectionReason(RouteFailureKind kind) => kind switch
    {
        RouteFailureKind.UnknownTarget => "unknown-target",
        RouteFailureKind.ModelNotAvailable => "model-not-available",
        RouteFailureKind.NoHealthyBackend => "no-healthy-backend",
        RouteFailureKind.PowerBudgetExceeded => "power-budget",
        RouteFailureKind.LatencyBudgetExceeded => "latency-budget",
        RouteFailureKind.ExcludedByMode => "excluded-by-mode",
        RouteFailureKind.TooHot => "too-hot",
        _ => "queue-full",
    };

    public void Dispose()
    {
        _otlp?.Dispose();
        Exporter.Dispose();
        _metrics.Dispose();
    }
}
