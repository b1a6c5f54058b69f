using Router.Actors.Routing;
using Router.Tests.Telemetry.Metrics;

namespace Router.Tests.Hosting;

/// <summary>A real Prometheus server scrapes the running daemon's /metrics (not a stand-in app).</summary>
public sealed class DaemonPrometheusScrapeTests
{
    [Fact]
    public async Task Scrape_RunningDaemonOnBattery_SeriesArePresent()
    {
        await using var daemon = await LaptopDaemon.StartAsync();
        await daemon.WaitForStateAsync(s => s.EffectiveMode == EfficiencyMode.UltraEfficiency && s.MaxTemperatureC == 75);
        Assert.Equal("ollama-npu", await daemon.ChatAsync());
        await daemon.WaitForMetricsAsync("ollama_proxy_mode{mode=\"ultra-efficiency\"} 1", "ollama_proxy_backend_temperature_celsius{backend=\"ollama-cpu\"} 75");

        await using var prometheus = await PrometheusServer.StartAsync(daemon.Host.HttpEndpoint, "ollama-proxy");
        using var deadline = new CancellationTokenSource(PrometheusServer.Deadline);

        Assert.Equal("1", await prometheus.WaitForSeriesAsync("up{job=\"ollama-proxy\"}", deadline.Token));
        Assert.Equal("1", await prometheus.WaitForSeriesAsync("sum(ollama_proxy_requests_total{backend=\"ollama-npu\",outcome=\"success\",priority=\"normal\"})", deadline.Token));
        Assert.Equal("1", await prometheus.WaitForSeriesAsync("ollama_proxy_mode{mode=\"ultra-efficiency\"}", deadline.Token));
        Assert.Equal("15", await prometheus.WaitForSeriesAsync("ollama_proxy_battery_charge_percent", deadline.Token));
        Assert.Equal("0", await prometheus.WaitForSeriesAsync("ollama_proxy_ac_online", deadline.Token));
        Assert.Equal("75", await prometheus.WaitForSeriesAsync("ollama_proxy_temperature_celsius{sensor=\"x86_pkg_temp\"}", deadline.Token));
        Assert.Equal("75", await prometheus.WaitForSeriesAsync("ollama_proxy_backend_temperature_celsius{backend=\"ollama-cpu\"}", deadline.Token));
        Assert.Equal("1", await prometheus.WaitForSeriesAsync("ollama_proxy_request_duration_seconds_count{backend=\"ollama-npu\"}", deadline.Token));
        Assert.NotEqual("0", await prometheus.WaitForSeriesAsync("ollama_proxy_energy_watthours_total{backend=\"ollama-npu\",basis=\"estimated\"}", deadline.Token));
    }
}
