using System.Collections.Frozen;
using Microsoft.Extensions.Logging;
using Router.Actors.Backends;
using Router.Actors.Config;
using Router.Actors.Inference;
using Router.Actors.Routing;
using Router.Actors.State;
using Router.Gateway.Http;
using Router.Telemetry.Energy;
using Router.Telemetry.Metrics;
using Router.Telemetry.Sensors;

namespace Router.Gateway.Hosting;

/// <summary>
/// The daemon's metrics: the router's metrics (Prometheus and the OllamaProxy meter), the gauges'
/// state kept current from the event stream, energy per request and per backend, and the OTLP
/// exporter when an endpoint is configured. Sees every finished request as the pipeline's observer, and
/// logs thermal events and mode changes with their reasons.
/// </summary>
internal sealed partial class RouterTelemetry : IRequestObserver, IDisposable
{
    /// <summary>How many sample intervals a measured source may go unsampled and still count as measuring.</summary>
    private const int SampleAgeIntervals = 5;

    private readonly IDisposable? _otlp;
    private readonly FrozenDictionary<string, string?> _powerSources;

    // Seeding the gauges at attach time must not overwrite what an event already brought.
    private readonly Lock _seedLock = new();
    private readonly HashSet<string> _backendsSeen = new(StringComparer.Ordinal);
    private bool _systemSeen;

    private RouterTelemetry(RouterMetrics metrics, EnergyMeter energy, RequestRate requestRate, FrozenDictionary<string, string?> powerSources, IDisposable? otlp)
    {
        Metrics = metrics;
        RequestRate = requestRate;
        Energy = energy;
        _powerSources = powerSources;
        _otlp = otlp;
    }

    /// <summary>The router's metrics; <c>GET /metrics</c> writes their Prometheus exposition.</summary>
    public RouterMetrics Metrics { get; }
    public RouterMetricsState State => Metrics.State;
    /// <summary>Energy per request and the totals per backend (measured where the device's power is read, else estimated).</summary>
    public EnergyMeter Energy { get; }
    /// <summary>Requests each backend finished in the last minute.</summary>
    public RequestRate RequestRate { get; }

    /// <summary>Energy used by every configured backend so far, in watt-hours (measured where metered, else estimated).</summary>
    public double TotalEnergyWh()
    {
        double total = 0;
        foreach (var backend in _powerSources.Keys)
        {
            total += Energy.GetTotals(backend).WattHours;
        }

        return total;
    }

    /// <summary>Creates the meter and the energy meter, and makes itself the runtime's request observer.</summary>
    public static RouterTelemetry Create(RouterConfig config, ref RouterRuntimeOptions runtime)
    {
        ArgumentNullException.ThrowIfNull(config);
        var metrics = new RouterMetrics(new RouterMetricsState());
        var interval = config.Telemetry.SampleInterval;
        var energy = new EnergyMeter(runtime.TimeProvider, interval > TimeSpan.Zero ? interval * SampleAgeIntervals : null);
        var powerSources = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var backend in config.Backends)
        {
            powerSources[backend.Id] = backend.Sensors?.Power;
        }

        var otlp = Router.Telemetry.TelemetrySetup.CreateOtlpMeterProviderIfConfigured(config.Telemetry);
        var telemetry = new RouterTelemetry(metrics, energy, new RequestRate(runtime.TimeProvider), powerSources.ToFrozenDictionary(StringComparer.Ordinal), otlp);
        runtime = runtime with { Observer = telemetry };
        return telemetry;
    }

    /// <summary>
    /// Keeps the gauges current from what the actors publish, logs thermal events and mode changes,
    /// and seeds the gauges with the state as it is now (what was published before this subscribed).
    /// </summary>
    /// <param name="machine">The real machine's sensors, which log through the daemon's logger from now on; null when simulated.</param>
    public async Task AttachAsync(RouterRuntime runtime, ILoggerFactory loggers, LinuxMachineSource? machine, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentNullException.ThrowIfNull(loggers);
        var logger = loggers.CreateLogger("Router.SystemState");
        machine?.UseLogger(loggers.CreateLogger("Router.Sensors"));

        runtime.Observe<BackendSnapshot>("metrics-backends", OnBackend);
        runtime.Observe<SystemState>("metrics-system", OnSystemState);
        runtime.Observe<ThermalEvent>("log-thermal", e => LogThermalEvent(logger, e));
        runtime.Observe<EfficiencyModeChanged>("log-mode", e =>
            Log.ModeChanged(logger, WireNames.ToWire(e.Mode), WireNames.ToWire(e.From), WireNames.ToWire(e.To), e.Reason));

        var system = await runtime.GetSystemStateAsync(cancellationToken).ConfigureAwait(false);
        var backends = await runtime.GetBackendsAsync(cancellationToken).ConfigureAwait(false);
        lock (_seedLock)
        {
            if (!_systemSeen)
            {
                State.UpdateSystemState(system);
            }

            foreach (var backend in backends)
            {
                if (!_backendsSeen.Contains(backend.Id))
                {
                    State.UpdateBackend(backend);
                }
            }
        }

        Log.ModeInEffect(logger, WireNames.ToWire(system.Mode), WireNames.ToWire(system.EffectiveMode), system.ModeReason);
    }

    private void OnBackend(BackendSnapshot snapshot)
    {
        lock (_seedLock)
        {
            _backendsSeen.Add(snapshot.Id);
            State.UpdateBackend(snapshot);
        }
    }

    private void OnSystemState(SystemState state)
    {
        lock (_seedLock)
        {
            _systemSeen = true;
            State.UpdateSystemState(state);
        }
    }

    private static void LogThermalEvent(ILogger logger, ThermalEvent e)
    {
        var device = e.BackendId ?? "machine";
        if (e.Kind is "cooled" or "throttling-stopped")
        {
            Log.ThermalRecovered(logger, e.Kind, device, e.TemperatureC, e.Message);
        }
        else
        {
            Log.ThermalWarning(logger, e.Kind, device, e.TemperatureC, e.Message);
        }
    }

    public void OnRequestFinished(RequestRecord record)
    {
        RequestRate.Record(record.BackendId);
        var outcome = record.Outcome switch
        {
            CallOutcome.Succeeded => RequestOutcomes.Success,
            CallOutcome.Cancelled => RequestOutcomes.Cancelled,
            _ => RequestOutcomes.Error,
        };
        var stats = record.Stats;
        Metrics.RecordCompletion(new RequestCompletion(
            record.BackendId,
            record.Reason,
            record.Priority,
            outcome,
            TimeSpan.FromMilliseconds(stats.TotalTimeMs),
            stats.TokensGenerated > 0 ? TimeSpan.FromMilliseconds(stats.TimeToFirstTokenMs) : null,
            0,
            stats.TokensGenerated,
            EnergyOf(record),
            stats.TokensPerSecond > 0 ? stats.TokensPerSecond : null));
    }

    /// <summary>
    /// The device's energy over the request's busy interval (slot granted → now): measured where its
    /// <c>sensors.power</c> source was sampled throughout, else configured power × busy time.
    /// </summary>
    private EnergyMeasurement EnergyOf(RequestRecord record)
    {
        if (record.BusySince == default)
        {
            // No busy interval known: the pipeline's own estimate.
            var busy = TimeSpan.FromMilliseconds(record.Stats.TotalTimeMs);
            var estimated = new EnergyMeasurement(record.BackendId, record.Stats.EnergyWh, EnergyBasis.Estimated, busy, record.ConfiguredPowerWatts);
            Energy.Add(estimated);
            return estimated;
        }

        var source = _powerSources.TryGetValue(record.BackendId, out var s) ? s : null;
        return Energy.Measure(record.BackendId, source, record.ConfiguredPowerWatts, record.BusySince);
    }

    public void OnRequestRejected(RouteFailureKind kind, Priority priority) =>
        Metrics.RecordRequest("none", RejectionReason(kind), priority, RequestOutcomes.Rejected);

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
        Metrics.Dispose();
    }
}
