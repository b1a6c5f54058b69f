using System.Diagnostics;
using System.Diagnostics.Metrics;
using Router.Actors.Routing;
using Router.Telemetry.Energy;

namespace Router.Telemetry.Metrics;

/// <summary>Outcome tag values of <c>ollama_proxy.requests</c>.</summary>
public static class RequestOutcomes
{
    public const string Success = "success";
    /// <summary>The backend failed and no alternative could take the request.</summary>
    public const string Error = "error";
    /// <summary>The client went away.</summary>
    public const string Cancelled = "cancelled";
    /// <summary>Nothing could serve it (no backend, budget, queue full).</summary>
    public const string Rejected = "rejected";
}

/// <summary>Everything known about a finished request, for <see cref="RouterMetrics.RecordCompletion"/>.</summary>
/// <param name="Reason">The routing reason (<see cref="RouteReasons"/>).</param>
/// <param name="Outcome">One of <see cref="RequestOutcomes"/>.</param>
/// <param name="TokensPerSecond">Generation speed as the backend measured it; when null it is completion tokens over the time after the first token.</param>
public readonly record struct RequestCompletion(
    string Backend,
    string Reason,
    Priority Priority,
    string Outcome,
    TimeSpan Duration,
    TimeSpan? TimeToFirstToken = null,
    long PromptTokens = 0,
    long CompletionTokens = 0,
    EnergyMeasurement? Energy = null,
    double? TokensPerSecond = null);

/// <summary>
/// The router's instruments, on one Meter named <see cref="MeterName"/>. Synchronous instruments
/// are recorded through the methods here; gauges read <see cref="State"/>, which actors update
/// without knowing the Meter. Histogram bucket boundaries travel as instrument advice, so our
/// Prometheus exposition and the OpenTelemetry SDK bucket alike.
/// </summary>
public sealed class RouterMetrics : IDisposable
{
    public const string MeterName = "OllamaProxy";

    /// <summary>Time to first token: an NPU answers in ~0.8 s, a CPU in 1–2 s, a cold model load in tens of seconds.</summary>
    public static readonly IReadOnlyList<double> TimeToFirstTokenBuckets = [0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60];

    public static readonly IReadOnlyList<double> DurationBuckets = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300];

    public static readonly IReadOnlyList<double> TokensPerSecondBuckets = [1, 2, 5, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300];

    private static readonly string[] PriorityLabels = ["best-effort", "normal", "high", "critical"];

    // Every mode a mode in effect can be (Auto never is one), labelled with its wire id.
    private static readonly (EfficiencyMode Mode, string Label)[] Modes =
        Array.ConvertAll(Array.FindAll(Enum.GetValues<EfficiencyMode>(), m => m != EfficiencyMode.Auto), m => (m, EfficiencyModeNames.ToWire(m)));

    private readonly bool _ownsMeter;
    private readonly Counter<long> _requests;
    private readonly Histogram<double> _timeToFirstToken;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _tokens;
    private readonly Histogram<double> _tokensPerSecond;
    private readonly Counter<double> _energy;

    /// <param name="meterFactory">Creates the Meter (the host's DI factory); without one the Meter is created here and disposed with this.</param>
    public RouterMetrics(RouterMetricsState state, IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        State = state;
        _ownsMeter = meterFactory is null;
        Meter = meterFactory?.Create(new MeterOptions(MeterName)) ?? new Meter(MeterName);

        _requests = Meter.CreateCounter<long>("ollama_proxy.requests", "{request}",
            "Requests by backend, routing reason, priority and outcome.");
        _timeToFirstToken = Meter.CreateHistogram("ollama_proxy.request.time_to_first_token", "s",
            "Time from admission to the first token, in seconds.", tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = TimeToFirstTokenBuckets });
        _duration = Meter.CreateHistogram("ollama_proxy.request.duration", "s",
            "Time from admission to the last token or the failure, in seconds.", tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _tokens = Meter.CreateCounter<long>("ollama_proxy.tokens", "{token}",
            "Tokens processed, by backend and type (prompt or completion).");
        _tokensPerSecond = Meter.CreateHistogram("ollama_proxy.tokens_per_second", "{token}/s",
            "Generation speed of each request after its first token.", tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = TokensPerSecondBuckets });
        _energy = Meter.CreateCounter<double>("ollama_proxy.energy", "Wh",
            "Energy used serving requests, in watt-hours, by backend and basis (measured or estimated).");

        Meter.CreateObservableGauge("ollama_proxy.requests.in_flight", ObserveInFlight, "{request}",
            "Requests being served, per backend.");
        Meter.CreateObservableGauge("ollama_proxy.queue.depth", ObserveQueueDepth, "{request}",
            "Requests waiting, per backend and priority.");
        Meter.CreateObservableGauge("ollama_proxy.backend.state", ObserveBackendState, unit: null,
            "Backend health: 0 unknown, 1 healthy, 2 degraded, 3 unhealthy, 4 ejected.");
        Meter.CreateObservableGauge("ollama_proxy.temperature", ObserveTemperatures, "Cel",
            "Temperature per sensor, in degrees Celsius.");
        Meter.CreateObservableGauge("ollama_proxy.backend.temperature", ObserveBackendTemperatures, "Cel",
            "Temperature of each backend's device (the hottest of its configured sensors), in degrees Celsius.");
        Meter.CreateObservableGauge("ollama_proxy.fan.speed", ObserveFans, "rpm",
            "Fan speed per fan, in revolutions per minute.");
        Meter.CreateObservableGauge("ollama_proxy.power", ObservePower, "W",
            "Measured power per source (RAPL domain or nvidia-smi), in watts.");
        Meter.CreateObservableGauge("ollama_proxy.battery.charge", ObserveBattery, "%",
            "Battery charge, 0 to 100 (absent without a battery).");
        Meter.CreateObservableGauge("ollama_proxy.ac.online", ObserveAcOnline, unit: null,
            "1 when the machine runs on external power, 0 on battery.");
        Meter.CreateObservableGauge("ollama_proxy.throttling", ObserveThrottling, unit: null,
            "1 while the CPU is being thermally throttled.");
        Meter.CreateObservableGauge("ollama_proxy.mode", ObserveMode, unit: null,
            "Efficiency mode in effect: 1 for the mode in effect, 0 for the others.");
        Meter.CreateObservableGauge("ollama_proxy.power_profile", ObservePowerProfile, unit: null,
            "The desktop's power profile (power-profiles-daemon's ActiveProfile): 1 for the active one; absent without the daemon.");
        Meter.CreateObservableGauge("ollama_proxy.battery.time_to_empty", ObserveTimeToEmpty, "s",
            "Seconds until the battery is empty, while discharging and known.");
    }

    public Meter Meter { get; }

    public RouterMetricsState State { get; }

    /// <summary>The <c>priority</c> tag value of a priority.</summary>
    public static string PriorityLabel(Priority priority) =>
        (uint)priority < (uint)PriorityLabels.Length ? PriorityLabels[(int)priority] : "unknown";

    public void RecordRequest(string backend, string reason, Priority priority, string outcome)
    {
        var tags = new TagList
        {
            { "backend", backend },
            { "reason", reason },
            { "priority", PriorityLabel(priority) },
            { "outcome", outcome },
        };
        _requests.Add(1, tags);
    }

    public void RecordTimeToFirstToken(string backend, Priority priority, TimeSpan timeToFirstToken) =>
        _timeToFirstToken.Record(timeToFirstToken.TotalSeconds, new KeyValuePair<string, object?>("backend", backend), new KeyValuePair<string, object?>("priority", PriorityLabel(priority)));

    public void RecordDuration(string backend, string outcome, TimeSpan duration) =>
        _duration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("backend", backend), new KeyValuePair<string, object?>("outcome", outcome));

    public void RecordTokens(string backend, long promptTokens, long completionTokens)
    {
        if (promptTokens > 0)
        {
            _tokens.Add(promptTokens, new KeyValuePair<string, object?>("backend", backend), new KeyValuePair<string, object?>("type", "prompt"));
        }

        if (completionTokens > 0)
        {
            _tokens.Add(completionTokens, new KeyValuePair<string, object?>("backend", backend), new KeyValuePair<string, object?>("type", "completion"));
        }
    }

    public void RecordTokensPerSecond(string backend, double tokensPerSecond) =>
        _tokensPerSecond.Record(tokensPerSecond, new KeyValuePair<string, object?>("backend", backend));

    public void RecordEnergy(in EnergyMeasurement energy)
    {
        if (energy.WattHours > 0)
        {
            _energy.Add(energy.WattHours,
                new KeyValuePair<string, object?>("backend", energy.BackendId),
                new KeyValuePair<string, object?>("basis", energy.Basis == EnergyBasis.Measured ? "measured" : "estimated"));
        }
    }

    /// <summary>
    /// Records a finished request on every instrument it touches: the request count, the duration,
    /// time to first token and the generation speed after it when a token came, tokens, energy.
    /// </summary>
    public void RecordCompletion(in RequestCompletion completion)
    {
        RecordRequest(completion.Backend, completion.Reason, completion.Priority, completion.Outcome);
        RecordDuration(completion.Backend, completion.Outcome, completion.Duration);
        if (completion.TimeToFirstToken is { } ttft)
        {
            RecordTimeToFirstToken(completion.Backend, completion.Priority, ttft);
            var generating = (completion.Duration - ttft).TotalSeconds;
            if (completion.TokensPerSecond is { } measured && measured > 0)
            {
                RecordTokensPerSecond(completion.Backend, measured);
            }
            else if (completion.CompletionTokens > 0 && generating > 0)
            {
                RecordTokensPerSecond(completion.Backend, completion.CompletionTokens / generating);
            }
        }

        RecordTokens(completion.Backend, completion.PromptTokens, completion.CompletionTokens);
        if (completion.Energy is { } energy)
        {
            RecordEnergy(energy);
        }
    }

    public void Dispose()
    {
        if (_ownsMeter)
        {
            Meter.Dispose();
        }
    }

    private IEnumerable<Measurement<int>> ObserveInFlight()
    {
        foreach (var backend in State.Backends())
        {
            yield return new Measurement<int>(backend.InFlight, new KeyValuePair<string, object?>("backend", backend.BackendId));
        }
    }

    private IEnumerable<Measurement<int>> ObserveQueueDepth()
    {
        foreach (var backend in State.Backends())
        {
            for (var p = 0; p < backend.Queue.Length; p++)
            {
                yield return new Measurement<int>(backend.Queue[p],
                    new KeyValuePair<string, object?>("backend", backend.BackendId),
                    new KeyValuePair<string, object?>("priority", PriorityLabels[p]));
            }
        }
    }

    private IEnumerable<Measurement<int>> ObserveBackendState()
    {
        foreach (var backend in State.Backends())
        {
            // The value carries the state; a state label would start a new series at every change.
            yield return new Measurement<int>((int)backend.Health, new KeyValuePair<string, object?>("backend", backend.BackendId));
        }
    }

    private IEnumerable<Measurement<double>> ObserveTemperatures() => Sensors(State.Temperatures, "sensor");

    private IEnumerable<Measurement<double>> ObserveBackendTemperatures() => Sensors(State.BackendTemperatures, "backend");

    private IEnumerable<Measurement<double>> ObserveFans() => Sensors(State.Fans, "fan");

    private IEnumerable<Measurement<double>> ObservePower() => Sensors(State.Power, "source");

    private static IEnumerable<Measurement<double>> Sensors(IEnumerable<KeyValuePair<string, double>> values, string tag)
    {
        foreach (var (name, value) in values)
        {
            yield return new Measurement<double>(value, new KeyValuePair<string, object?>(tag, name));
        }
    }

    private IEnumerable<Measurement<double>> ObserveBattery() =>
        State.BatteryPercent is { } percent ? [new Measurement<double>(percent)] : [];

    private IEnumerable<Measurement<int>> ObserveAcOnline() =>
        State.AcOnline is { } online ? [new Measurement<int>(online ? 1 : 0)] : [];

    private IEnumerable<Measurement<int>> ObserveThrottling() =>
        State.Throttling is { } throttling ? [new Measurement<int>(throttling ? 1 : 0)] : [];

    private IEnumerable<Measurement<int>> ObserveMode()
    {
        if (State.EffectiveMode is not { } effective)
        {
            yield break;
        }

        foreach (var (mode, label) in Modes)
        {
            yield return new Measurement<int>(mode == effective ? 1 : 0, new KeyValuePair<string, object?>("mode", label));
        }
    }

    private IEnumerable<Measurement<int>> ObservePowerProfile() =>
        State.PowerProfile is { } profile ? [new Measurement<int>(1, new KeyValuePair<string, object?>("profile", profile))] : [];

    private IEnumerable<Measurement<double>> ObserveTimeToEmpty() =>
        State.TimeToEmpty is { } remaining ? [new Measurement<double>(remaining.TotalSeconds)] : [];
}
