using System.Globalization;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Prometheus;
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
/// The router's metrics, exported two ways from one set of definitions: prometheus-net metrics in a
/// registry of their own, which <see cref="WritePrometheusAsync"/> writes for <c>GET /metrics</c>, and
/// instruments on the Meter named <see cref="MeterName"/>, which the OpenTelemetry SDK exports over
/// OTLP when an endpoint is configured. Each record method feeds both; gauges read
/// <see cref="State"/>, which actors update without knowing either export, when a collector asks.
/// </summary>
/// <remarks>
/// prometheus-net's own Meter adapter would expose the Meter as it stands, but not under our names:
/// it prefixes the meter's name, adds no unit suffix, turns counters into gauges and drops series
/// that stay unchanged for five minutes. The Prometheus names, labels and buckets are therefore
/// declared here, next to the instruments they mirror. A Meter instrument nobody listens to costs
/// one branch per measurement, so without OTLP the second export is almost free.
/// </remarks>
public sealed class RouterMetrics : IDisposable
{
    public const string MeterName = "OllamaProxy";

    /// <summary>The media type of <see cref="WritePrometheusAsync"/>'s output: the Prometheus text format 0.0.4.</summary>
    public const string PrometheusContentType = PrometheusConstants.TextContentTypeWithVersionAndEncoding;

    /// <summary>Time to first token: an NPU answers in ~0.8 s, a CPU in 1–2 s, a cold model load in tens of seconds.</summary>
    public static readonly IReadOnlyList<double> TimeToFirstTokenBuckets = [0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60];

    public static readonly IReadOnlyList<double> DurationBuckets = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300];

    public static readonly IReadOnlyList<double> TokensPerSecondBuckets = [1, 2, 5, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300];

    private static readonly string[] PriorityLabels = [.. WireNames.PriorityNames];

    // The modes that can be in effect (Auto only chooses one of the others), with their labels.
    private static readonly (EfficiencyMode Mode, string Label)[] Modes =
        [.. WireNames.Modes.Where(static m => m != EfficiencyMode.Auto).Select(static m => (m, WireNames.ToWire(m)))];

    private readonly bool _ownsMeter;

    // 1. What GET /metrics shows. Label names are in the order they are written.
    private readonly CollectorRegistry _registry = Prometheus.Metrics.NewCustomRegistry();
    private readonly Prometheus.Counter _requestsTotal;
    private readonly Prometheus.Histogram _timeToFirstTokenSeconds;
    private readonly Prometheus.Histogram _durationSeconds;
    private readonly Prometheus.Counter _tokensTotal;
    private readonly Prometheus.Histogram _tokensPerSecond;
    private readonly Prometheus.Counter _energyWattHoursTotal;
    private readonly Prometheus.Counter _httpErrorsTotal;
    private readonly StateGauge[] _gauges;

    // Scrapes take turns, so one scrape's gauge sync cannot remove a series another is writing.
    private readonly SemaphoreSlim _scrapeGate = new(1, 1);

    // 2. What OTLP exports: the same measurements as OpenTelemetry instruments.
    private readonly Counter<long> _requests;
    private readonly Histogram<double> _timeToFirstToken;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _tokens;
    private readonly Histogram<double> _tokensPerSecondInstrument;
    private readonly Counter<double> _energy;
    private readonly Counter<long> _httpErrors;

    /// <param name="meterFactory">Creates the Meter (the host's DI factory); without one the Meter is created here and disposed with this.</param>
    public RouterMetrics(RouterMetricsState state, IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        State = state;
        _ownsMeter = meterFactory is null;
        Meter = meterFactory?.Create(new MeterOptions(MeterName)) ?? new Meter(MeterName);
        var prometheus = Prometheus.Metrics.WithCustomRegistry(_registry);

        const string RequestsHelp = "Requests by backend, routing reason, priority and outcome.";
        _requestsTotal = prometheus.CreateCounter("ollama_proxy_requests_total", RequestsHelp, "backend", "outcome", "priority", "reason");
        _requests = Meter.CreateCounter<long>("ollama_proxy.requests", "{request}", RequestsHelp);

        const string TimeToFirstTokenHelp = "Time from admission to the first token, in seconds.";
        _timeToFirstTokenSeconds = prometheus.CreateHistogram("ollama_proxy_request_time_to_first_token_seconds", TimeToFirstTokenHelp,
            ["backend", "priority"], new HistogramConfiguration { Buckets = [.. TimeToFirstTokenBuckets] });
        _timeToFirstToken = Meter.CreateHistogram("ollama_proxy.request.time_to_first_token", "s", TimeToFirstTokenHelp, tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = TimeToFirstTokenBuckets });

        const string DurationHelp = "Time from admission to the last token or the failure, in seconds.";
        _durationSeconds = prometheus.CreateHistogram("ollama_proxy_request_duration_seconds", DurationHelp,
            ["backend", "outcome"], new HistogramConfiguration { Buckets = [.. DurationBuckets] });
        _duration = Meter.CreateHistogram("ollama_proxy.request.duration", "s", DurationHelp, tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });

        const string TokensHelp = "Tokens processed, by backend and type (prompt or completion).";
        _tokensTotal = prometheus.CreateCounter("ollama_proxy_tokens_total", TokensHelp, "backend", "type");
        _tokens = Meter.CreateCounter<long>("ollama_proxy.tokens", "{token}", TokensHelp);

        const string TokensPerSecondHelp = "Generation speed of each request after its first token.";
        _tokensPerSecond = prometheus.CreateHistogram("ollama_proxy_tokens_per_second", TokensPerSecondHelp,
            ["backend"], new HistogramConfiguration { Buckets = [.. TokensPerSecondBuckets] });
        _tokensPerSecondInstrument = Meter.CreateHistogram("ollama_proxy.tokens_per_second", "{token}/s", TokensPerSecondHelp, tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = TokensPerSecondBuckets });

        const string HttpErrorsHelp = "Error answers the router gave on its HTTP port, by status and code (queue_full, invalid_json, malformed_body …).";
        _httpErrorsTotal = prometheus.CreateCounter("ollama_proxy_http_errors_total", HttpErrorsHelp, "status", "code");
        _httpErrors = Meter.CreateCounter<long>("ollama_proxy.http.errors", "{response}", HttpErrorsHelp);

        const string EnergyHelp = "Energy used serving requests, in watt-hours, by backend and basis (measured or estimated).";
        _energyWattHoursTotal = prometheus.CreateCounter("ollama_proxy_energy_watthours_total", EnergyHelp, "backend", "basis");
        _energy = Meter.CreateCounter<double>("ollama_proxy.energy", "Wh", EnergyHelp);

        _gauges =
        [
            new(prometheus, Meter, "ollama_proxy_requests_in_flight", "ollama_proxy.requests.in_flight", "{request}",
                "Requests being served, per backend.", ["backend"], ReadInFlight),
            new(prometheus, Meter, "ollama_proxy_queue_depth", "ollama_proxy.queue.depth", "{request}",
                "Requests waiting, per backend and priority.", ["backend", "priority"], ReadQueueDepth),
            new(prometheus, Meter, "ollama_proxy_backend_state", "ollama_proxy.backend.state", null,
                "Backend health: 0 unknown, 1 healthy, 2 degraded, 3 unhealthy, 4 ejected.", ["backend"], ReadBackendState),
            new(prometheus, Meter, "ollama_proxy_temperature_celsius", "ollama_proxy.temperature", "Cel",
                "Temperature per sensor, in degrees Celsius.", ["sensor"], () => Read(State.Temperatures)),
            new(prometheus, Meter, "ollama_proxy_backend_temperature_celsius", "ollama_proxy.backend.temperature", "Cel",
                "Temperature of each backend's device (the hottest of its configured sensors), in degrees Celsius.", ["backend"], () => Read(State.BackendTemperatures)),
            new(prometheus, Meter, "ollama_proxy_fan_speed_rpm", "ollama_proxy.fan.speed", "rpm",
                "Fan speed per fan, in revolutions per minute.", ["fan"], () => Read(State.Fans)),
            new(prometheus, Meter, "ollama_proxy_power_watts", "ollama_proxy.power", "W",
                "Measured power per source (RAPL domain or nvidia-smi), in watts.", ["source"], () => Read(State.Power)),
            new(prometheus, Meter, "ollama_proxy_battery_charge_percent", "ollama_proxy.battery.charge", "%",
                "Battery charge, 0 to 100 (absent without a battery).", [], () => Read(State.BatteryPercent)),
            new(prometheus, Meter, "ollama_proxy_ac_online", "ollama_proxy.ac.online", null,
                "1 when the machine runs on external power, 0 on battery.", [], () => Read(State.AcOnline)),
            new(prometheus, Meter, "ollama_proxy_throttling", "ollama_proxy.throttling", null,
                "1 while the CPU is being thermally throttled.", [], () => Read(State.Throttling)),
            new(prometheus, Meter, "ollama_proxy_mode", "ollama_proxy.mode", null,
                "Efficiency mode in effect: 1 for the mode in effect, 0 for the others.", ["mode"], ReadMode),
            new(prometheus, Meter, "ollama_proxy_power_profile", "ollama_proxy.power_profile", null,
                "The desktop's power profile (power-profiles-daemon's ActiveProfile): 1 for the active one; absent without the daemon.", ["profile"], ReadPowerProfile),
            new(prometheus, Meter, "ollama_proxy_battery_time_to_empty_seconds", "ollama_proxy.battery.time_to_empty", "s",
                "Seconds until the battery is empty, while discharging and known.", [], ReadTimeToEmpty),
        ];
        _registry.AddBeforeCollectCallback(() =>
        {
            foreach (var gauge in _gauges)
            {
                gauge.Sync();
            }
        });
    }

    public Meter Meter { get; }

    public RouterMetricsState State { get; }

    /// <summary>The <c>priority</c> tag value of a priority.</summary>
    public static string PriorityLabel(Priority priority) =>
        (uint)priority < (uint)PriorityLabels.Length ? PriorityLabels[(int)priority] : "unknown";

    /// <summary>Writes every series in the Prometheus text format (<see cref="PrometheusContentType"/>), gauges read from <see cref="State"/> now.</summary>
    public async Task WritePrometheusAsync(Stream output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        await _scrapeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _registry.CollectAndExportAsTextAsync(output, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _scrapeGate.Release();
        }
    }

    public void RecordRequest(string backend, string reason, Priority priority, string outcome)
    {
        var priorityLabel = PriorityLabel(priority);
        _requestsTotal.WithLabels([backend, outcome, priorityLabel, reason]).Inc();
        var tags = new TagList
        {
            { "backend", backend },
            { "reason", reason },
            { "priority", priorityLabel },
            { "outcome", outcome },
        };
        _requests.Add(1, tags);
    }

    public void RecordTimeToFirstToken(string backend, Priority priority, TimeSpan timeToFirstToken)
    {
        var priorityLabel = PriorityLabel(priority);
        _timeToFirstTokenSeconds.WithLabels([backend, priorityLabel]).Observe(timeToFirstToken.TotalSeconds);
        _timeToFirstToken.Record(timeToFirstToken.TotalSeconds, new KeyValuePair<string, object?>("backend", backend), new KeyValuePair<string, object?>("priority", priorityLabel));
    }

    public void RecordDuration(string backend, string outcome, TimeSpan duration)
    {
        _durationSeconds.WithLabels([backend, outcome]).Observe(duration.TotalSeconds);
        _duration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("backend", backend), new KeyValuePair<string, object?>("outcome", outcome));
    }

    public void RecordTokens(string backend, long promptTokens, long completionTokens)
    {
        if (promptTokens > 0)
        {
            _tokensTotal.WithLabels([backend, "prompt"]).Inc(promptTokens);
            _tokens.Add(promptTokens, new KeyValuePair<string, object?>("backend", backend), new KeyValuePair<string, object?>("type", "prompt"));
        }

        if (completionTokens > 0)
        {
            _tokensTotal.WithLabels([backend, "completion"]).Inc(completionTokens);
            _tokens.Add(completionTokens, new KeyValuePair<string, object?>("backend", backend), new KeyValuePair<string, object?>("type", "completion"));
        }
    }

    public void RecordTokensPerSecond(string backend, double tokensPerSecond)
    {
        _tokensPerSecond.WithLabels([backend]).Observe(tokensPerSecond);
        _tokensPerSecondInstrument.Record(tokensPerSecond, new KeyValuePair<string, object?>("backend", backend));
    }

    /// <summary>An error answer on the HTTP port: its status and the router's code for it.</summary>
    public void RecordHttpError(int status, string code)
    {
        _httpErrorsTotal.WithLabels(status.ToString(CultureInfo.InvariantCulture), code).Inc();
        _httpErrors.Add(1, new KeyValuePair<string, object?>("status", status), new KeyValuePair<string, object?>("code", code));
    }

    public void RecordEnergy(in EnergyMeasurement energy)
    {
        if (energy.WattHours > 0)
        {
            var basis = energy.Basis == EnergyBasis.Measured ? "measured" : "estimated";
            _energyWattHoursTotal.WithLabels([energy.BackendId, basis]).Inc(energy.WattHours);
            _energy.Add(energy.WattHours,
                new KeyValuePair<string, object?>("backend", energy.BackendId),
                new KeyValuePair<string, object?>("basis", basis));
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
        _scrapeGate.Dispose();
        if (_ownsMeter)
        {
            Meter.Dispose();
        }
    }

    private IEnumerable<GaugeReading> ReadInFlight()
    {
        foreach (var backend in State.Backends())
        {
            yield return new GaugeReading(backend.InFlight, backend.BackendId);
        }
    }

    private IEnumerable<GaugeReading> ReadQueueDepth()
    {
        foreach (var backend in State.Backends())
        {
            for (var p = 0; p < backend.Queue.Length; p++)
            {
                yield return new GaugeReading(backend.Queue[p], backend.BackendId, PriorityLabels[p]);
            }
        }
    }

    private IEnumerable<GaugeReading> ReadBackendState()
    {
        foreach (var backend in State.Backends())
        {
            // The value carries the state; a state label would start a new series at every change.
            yield return new GaugeReading((int)backend.Health, backend.BackendId);
        }
    }

    private static IEnumerable<GaugeReading> Read(IEnumerable<KeyValuePair<string, double>> values)
    {
        foreach (var (name, value) in values)
        {
            yield return new GaugeReading(value, name);
        }
    }

    private static IEnumerable<GaugeReading> Read(double? value) =>
        value is { } v ? [new GaugeReading(v)] : [];

    private static IEnumerable<GaugeReading> Read(bool? value) =>
        value is { } on ? [new GaugeReading(on ? 1 : 0)] : [];

    private IEnumerable<GaugeReading> ReadMode()
    {
        if (State.EffectiveMode is not { } effective)
        {
            yield break;
        }

        foreach (var (mode, label) in Modes)
        {
            yield return new GaugeReading(mode == effective ? 1 : 0, label);
        }
    }

    private IEnumerable<GaugeReading> ReadPowerProfile() =>
        State.PowerProfile is { } profile ? [new GaugeReading(1, profile)] : [];

    private IEnumerable<GaugeReading> ReadTimeToEmpty() =>
        State.TimeToEmpty is { } remaining ? [new GaugeReading(remaining.TotalSeconds)] : [];
}
