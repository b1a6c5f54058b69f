using System.Collections.Immutable;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Router.Actors.Routing;
using Router.Telemetry.Energy;
using Router.Telemetry.Metrics;
using Router.Telemetry.Sensors;

namespace Router.Tests.Telemetry.Metrics;

public sealed class RouterMetricsTests
{
    /// <summary>Every instrument with at least one series: what a busy router exposes.</summary>
    internal static void Populate(RouterMetrics metrics)
    {
        metrics.RecordCompletion(new RequestCompletion(
            "ollama-npu", RouteReasons.ModeEfficiency, Priority.Normal, RequestOutcomes.Success,
            Duration: TimeSpan.FromSeconds(3), TimeToFirstToken: TimeSpan.FromSeconds(1),
            PromptTokens: 20, CompletionTokens: 40,
            Energy: new EnergyMeasurement("ollama-npu", 0.0025, EnergyBasis.Estimated, TimeSpan.FromSeconds(3), 3)));
        metrics.RecordCompletion(new RequestCompletion(
            "ollama-npu", RouteReasons.ModeEfficiency, Priority.Normal, RequestOutcomes.Success,
            Duration: TimeSpan.FromSeconds(2), TimeToFirstToken: TimeSpan.FromSeconds(0.5), CompletionTokens: 30));
        metrics.RecordCompletion(new RequestCompletion(
            "ollama-nvidia", RouteReasons.LatencyCritical, Priority.Critical, RequestOutcomes.Error,
            Duration: TimeSpan.FromMilliseconds(200)));
        metrics.RecordCompletion(new RequestCompletion(
            "ollama-nvidia", "odd \"reason\"\\x", Priority.BestEffort, RequestOutcomes.Success,
            Duration: TimeSpan.FromSeconds(1), TimeToFirstToken: TimeSpan.FromSeconds(0.15), CompletionTokens: 100,
            Energy: new EnergyMeasurement("ollama-nvidia", 0.01, EnergyBasis.Measured, TimeSpan.FromSeconds(1), 36)));

        var state = metrics.State;
        state.UpdateBackend(new BackendSnapshot
        {
            Id = "ollama-npu",
            Health = BackendHealth.Healthy,
            InFlight = 1,
            QueueDepthByPriority = ImmutableArray.Create(0, 2, 0, 1),
        });
        state.UpdateBackend(new BackendSnapshot { Id = "ollama-nvidia", Health = BackendHealth.Ejected });
        var now = DateTimeOffset.UnixEpoch;
        state.UpdateSample(SystemSample.Unavailable(now, "test") with
        {
            Thermal = new ThermalReading(now,
                [new TemperatureSensor("x86_pkg_temp", TemperatureSource.ThermalZone, "x86_pkg_temp", null, 61.5),
                 new TemperatureSensor("coretemp/Core 0", TemperatureSource.Hwmon, "coretemp", "Core 0", 58),
                 new TemperatureSensor("acpitz", TemperatureSource.ThermalZone, "acpitz", null, null, "gone")],
                [new FanSensor("thinkpad/fan1", "thinkpad", null, 2400)]),
            Power = new PowerSupplyReading(now) { AcOnline = false, BatteryPercent = 42, BatteryStatus = BatteryStatus.Discharging },
            Rapl = new RaplReading(now, [new RaplDomainReading("package-0", "intel-rapl:0", 100, 9.5)]),
            Nvidia = new NvidiaReading(now, [new NvidiaGpuReading(0, 66, 35, 80, 40)]),
        });
        state.UpdateSystemState(SystemState.Default with
        {
            Mode = EfficiencyMode.Auto,
            EffectiveMode = EfficiencyMode.Efficiency,
            OnAcPower = false,
            BatteryPercent = 42,
            Throttling = false,
        });
    }

    /// <summary>What <c>GET /metrics</c> answers.</summary>
    internal static async Task<string> ScrapeAsync(RouterMetrics metrics)
    {
        using var output = new MemoryStream();
        await metrics.WritePrometheusAsync(output);
        return System.Text.Encoding.UTF8.GetString(output.ToArray());
    }

    [Fact]
    public async Task RecordCompletion_Request_ExposesCountsHistogramsTokensAndEnergy()
    {
        using var metrics = new RouterMetrics(new RouterMetricsState());

        Populate(metrics);
        var text = await ScrapeAsync(metrics);

        Assert.Contains("# TYPE ollama_proxy_requests_total counter\n", text, StringComparison.Ordinal);
        Assert.Contains("ollama_proxy_requests_total{backend=\"ollama-npu\",outcome=\"success\",priority=\"normal\",reason=\"mode-efficiency\"} 2\n", text, StringComparison.Ordinal);
        Assert.Contains("ollama_proxy_requests_total{backend=\"ollama-nvidia\",outcome=\"error\",priority=\"critical\",reason=\"latency-critical\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("ollama_proxy_requests_total{backend=\"ollama-nvidia\",outcome=\"success\",priority=\"best-effort\",reason=\"odd \\\"reason\\\"\\\\x\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("ollama_proxy_request_time_to_first_token_seconds_bucket{backend=\"ollama-npu\",priority=\"normal\",le=\"0.5\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("ollama_proxy_request_time_to_first_token_seconds_bucket{backend=\"ollama-npu\",priority=\"normal\",le=\"1\"} 2\n", text, StringComparison.Ordinal);
        Assert.Contains("ollama_proxy_request_time_to_first_token_seconds_sum{backend=\"ollama-npu\",priority=\"normal\"} 1.5\n", text, StringComparison.Ordinal);
        Assert.Contains("ollama_proxy_request_duration_seconds_count{backend=\"ollama-nvidia\",outcome=\"error\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("ollama_proxy_tokens_total{backend=\"ollama-npu\",type=\"completion\"} 70\n", text, StringComparison.Ordinal);
        Assert.Contains("ollama_proxy_tokens_total{backend=\"ollama-npu\",type=\"prompt\"} 20\n", text, StringComparison.Ordinal);
        // 40 tokens over the 2 s after the first token, 30 over 1.5 s: both 20 tokens/s.
        Assert.Contains("ollama_proxy_tokens_per_second_bucket{backend=\"ollama-npu\",le=\"20\"} 2\n", text, StringComparison.Ordinal);
        Assert.Contains("ollama_proxy_energy_watthours_total{backend=\"ollama-npu\",basis=\"estimated\"} 0.0025\n", text, StringComparison.Ordinal);
        Assert.Contains("ollama_proxy_energy_watthours_total{backend=\"ollama-nvidia\",basis=\"measured\"} 0.01\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task State_Pushed_ExposedAsGauges()
    {
        using var metrics = new RouterMetrics(new RouterMetricsState());

        Populate(metrics);
        var text = await ScrapeAsync(metrics);

        string[] expected =
        [
            "ollama_proxy_requests_in_flight{backend=\"ollama-npu\"} 1\n",
            "ollama_proxy_queue_depth{backend=\"ollama-npu\",priority=\"normal\"} 2\n",
            "ollama_proxy_queue_depth{backend=\"ollama-npu\",priority=\"critical\"} 1\n",
            "ollama_proxy_backend_state{backend=\"ollama-npu\"} 1\n",
            "ollama_proxy_backend_state{backend=\"ollama-nvidia\"} 4\n",
            "ollama_proxy_temperature_celsius{sensor=\"x86_pkg_temp\"} 61.5\n",
            "ollama_proxy_temperature_celsius{sensor=\"coretemp/Core 0\"} 58\n",
            "ollama_proxy_temperature_celsius{sensor=\"nvidia-smi/gpu0\"} 66\n",
            "ollama_proxy_fan_speed_rpm{fan=\"thinkpad/fan1\"} 2400\n",
            "ollama_proxy_power_watts{source=\"package-0\"} 9.5\n",
            "ollama_proxy_power_watts{source=\"nvidia-smi\"} 35\n",
            "ollama_proxy_battery_charge_percent 42\n",
            "ollama_proxy_ac_online 0\n",
            "ollama_proxy_throttling 0\n",
            "ollama_proxy_mode{mode=\"efficiency\"} 1\n",
            "ollama_proxy_mode{mode=\"performance\"} 0\n",
        ];
        Assert.All(expected, line => Assert.Contains(line, text, StringComparison.Ordinal));
        Assert.DoesNotContain("acpitz", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task State_BackendRemovedAndModeChanged_NextScrapeFollows()
    {
        using var metrics = new RouterMetrics(new RouterMetricsState());
        Populate(metrics);
        var before = await ScrapeAsync(metrics);

        metrics.State.RemoveBackend("ollama-nvidia");
        metrics.State.SetEffectiveMode(EfficiencyMode.Quiet);
        metrics.State.SetBattery(null);
        metrics.State.SetTemperature("x86_pkg_temp", null);
        var text = await ScrapeAsync(metrics);

        Assert.Contains("ollama_proxy_battery_charge_percent 42\n", before, StringComparison.Ordinal);
        Assert.DoesNotContain("ollama_proxy_backend_state{backend=\"ollama-nvidia\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain("ollama_proxy_queue_depth{backend=\"ollama-nvidia\"", text, StringComparison.Ordinal);
        Assert.Contains("ollama_proxy_mode{mode=\"quiet\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("ollama_proxy_mode{mode=\"efficiency\"} 0\n", text, StringComparison.Ordinal);
        // No battery, no sample (the family's HELP and TYPE may stay; Prometheus sees no series).
        Assert.DoesNotContain("\nollama_proxy_battery_charge_percent ", text, StringComparison.Ordinal);
        Assert.DoesNotContain("x86_pkg_temp", text, StringComparison.Ordinal);
        Assert.Contains("ollama_proxy_temperature_celsius{sensor=\"coretemp/Core 0\"} 58\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scrape_FreshRouter_NoSampleUntilTheStateHasOne()
    {
        using var metrics = new RouterMetrics(new RouterMetricsState());

        var samples = (await ScrapeAsync(metrics)).Split('\n').Where(line => line.Length > 0 && !line.StartsWith('#'));

        // Nothing known yet: an unknown battery, AC or mode is absent, never a made-up 0.
        Assert.Empty(samples);
    }

    [Fact]
    public void Constructor_MeterFactory_CreatesTheOllamaProxyMeterThroughIt()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = services.GetRequiredService<IMeterFactory>();

        using var metrics = new RouterMetrics(new RouterMetricsState(), factory);

        Assert.Equal("OllamaProxy", metrics.Meter.Name);
        Assert.Same(factory, metrics.Meter.Scope);
    }

    [Fact]
    public async Task Histograms_ExplicitBuckets()
    {
        using var metrics = new RouterMetrics(new RouterMetricsState());

        metrics.RecordDuration("b", RequestOutcomes.Success, TimeSpan.FromSeconds(7));
        var text = await ScrapeAsync(metrics);

        var les = text.Split('\n')
            .Where(l => l.StartsWith("ollama_proxy_request_duration_seconds_bucket", StringComparison.Ordinal))
            .Select(l => l[(l.IndexOf("le=\"", StringComparison.Ordinal) + 4)..l.LastIndexOf('"')]);
        Assert.Equal(RouterMetrics.DurationBuckets.Select(b => b.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append("+Inf"), les);
    }
}
