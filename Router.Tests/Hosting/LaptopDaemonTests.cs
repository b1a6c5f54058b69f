using System.Text.Json;
using Router.Actors.Routing;
using Router.Tests.Telemetry.Metrics;

namespace Router.Tests.Hosting;

/// <summary>
/// Issue 6 end to end: the daemon reads the machine through sysfs, Auto follows it, routing obeys
/// the mode, and /efficiency, /thermal and /metrics show what it saw.
/// </summary>
public sealed class LaptopDaemonTests : IAsyncLifetime
{
    private LaptopDaemon _daemon = null!;

    public async Task InitializeAsync() => _daemon = await LaptopDaemon.StartAsync();

    public async Task DisposeAsync() => await _daemon.DisposeAsync();

    [Fact]
    public async Task LowBattery_AutoGoesUltraEfficiencyRoutesToNpuAndEverySurfaceShowsIt()
    {
        // The power and thermal readings reach the efficiency actor separately.
        await _daemon.WaitForStateAsync(s => s.EffectiveMode == EfficiencyMode.UltraEfficiency && s.MaxTemperatureC == 75);

        using (var efficiency = JsonDocument.Parse(await _daemon.GetStringAsync("/efficiency")))
        {
            var root = efficiency.RootElement;
            Assert.Equal("auto", root.GetProperty("mode").GetString());
            Assert.Equal("ultra-efficiency", root.GetProperty("effective_mode").GetString());
            Assert.Equal("battery 15% < 20%: ultra-efficiency", root.GetProperty("reason").GetString());
            Assert.False(root.GetProperty("on_ac_power").GetBoolean());
            Assert.Equal(15, root.GetProperty("battery_percent").GetDouble());
        }

        Assert.Equal("ollama-npu", await _daemon.ChatAsync());

        using (var thermal = JsonDocument.Parse(await _daemon.GetStringAsync("/thermal")))
        {
            var root = thermal.RootElement;
            Assert.Equal(75, root.GetProperty("max_temperature_c").GetDouble());
            Assert.False(root.GetProperty("throttling").GetBoolean());
            var cpu = root.GetProperty("backends").GetProperty("ollama-cpu");
            Assert.Equal(75, cpu.GetProperty("temperature_c").GetDouble());
            Assert.Equal("hot", cpu.GetProperty("state").GetString());
            Assert.Equal(0, cpu.GetProperty("energy_wh").GetDouble());
            var npu = root.GetProperty("backends").GetProperty("ollama-npu");
            Assert.Equal(JsonValueKind.Null, npu.GetProperty("temperature_c").ValueKind);
            Assert.True(npu.GetProperty("energy_wh").GetDouble() > 0, "the NPU request's estimated energy is in its total");
        }

        var metrics = await _daemon.WaitForMetricsAsync(
            "ollama_proxy_mode{mode=\"ultra-efficiency\"} 1",
            "ollama_proxy_backend_temperature_celsius{backend=\"ollama-cpu\"} 75",
            "ollama_proxy_requests_in_flight{backend=\"ollama-npu\"} 0");
        var lines = metrics.Split('\n');
        Assert.Contains(lines, l => l.StartsWith("ollama_proxy_requests_total{backend=\"ollama-npu\",outcome=\"success\",priority=\"normal\",reason=\"", StringComparison.Ordinal) && l.EndsWith("} 1", StringComparison.Ordinal));
        Assert.Contains("ollama_proxy_request_duration_seconds_count{backend=\"ollama-npu\",outcome=\"success\"} 1", lines);
        Assert.Contains("ollama_proxy_request_time_to_first_token_seconds_count{backend=\"ollama-npu\",priority=\"normal\"} 1", lines);
        Assert.Contains(lines, l => l.StartsWith("ollama_proxy_tokens_total{backend=\"ollama-npu\",type=\"completion\"} ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("ollama_proxy_energy_watthours_total{backend=\"ollama-npu\",basis=\"estimated\"} ", StringComparison.Ordinal));
        Assert.Contains("ollama_proxy_requests_in_flight{backend=\"ollama-npu\"} 0", lines);
        Assert.Contains("ollama_proxy_queue_depth{backend=\"ollama-npu\",priority=\"best-effort\"} 0", lines);
        Assert.Contains(lines, l => l.StartsWith("ollama_proxy_backend_state{backend=\"ollama-npu\"} ", StringComparison.Ordinal));
        Assert.Contains("ollama_proxy_mode{mode=\"ultra-efficiency\"} 1", lines);
        Assert.Contains("ollama_proxy_mode{mode=\"performance\"} 0", lines);
        Assert.Contains("ollama_proxy_battery_charge_percent 15", lines);
        Assert.Contains("ollama_proxy_ac_online 0", lines);
        Assert.Contains("ollama_proxy_throttling 0", lines);
        Assert.Contains("ollama_proxy_temperature_celsius{sensor=\"x86_pkg_temp\"} 75", lines);
        Assert.Contains("ollama_proxy_temperature_celsius{sensor=\"coretemp/Package id 0\"} 74", lines);
        Assert.Contains("ollama_proxy_backend_temperature_celsius{backend=\"ollama-cpu\"} 75", lines);
        Assert.Contains("ollama_proxy_fan_speed_rpm{fan=\"thinkpad/fan1\"} 4100", lines);

        // The daemon's whole exposition passes the official linter.
        var (exitCode, output) = await PromtoolTests.RunPromtoolAsync(metrics);
        Assert.True(exitCode == 0 && output.Trim().Length == 0, $"promtool exited with {exitCode}:\n{output}\n--- exposition ---\n{metrics}");
    }

    [Fact]
    public async Task ThrottleCounterRises_AutoGoesQuietAndRaplMeasuresTheCpuRequest()
    {
        await _daemon.WaitForStateAsync(s => s.EffectiveMode == EfficiencyMode.UltraEfficiency);

        // The CPU throttled since the first sample, and the package used 6 J.
        _daemon.Sysfs.Write("devices/system/cpu/cpu0/thermal_throttle/package_throttle_count", "12");
        _daemon.Sysfs.Write("class/powercap/intel-rapl:0/energy_uj", "7000000");
        _daemon.SampleNow();

        var state = await _daemon.WaitForStateAsync(s => s.Throttling);
        Assert.Equal(EfficiencyMode.Quiet, state.EffectiveMode);
        Assert.Equal("throttling: quiet", state.ModeReason);
        using (var thermal = JsonDocument.Parse(await _daemon.GetStringAsync("/thermal")))
        {
            Assert.True(thermal.RootElement.GetProperty("throttling").GetBoolean());
        }

        var metrics = (await _daemon.WaitForMetricsAsync("ollama_proxy_throttling 1", "ollama_proxy_mode{mode=\"quiet\"} 1")).Split('\n');
        Assert.Contains(metrics, l => l.StartsWith("ollama_proxy_power_watts{source=\"package-0\"} ", StringComparison.Ordinal));

        // The CPU backend names package-0 as its power: with two samples taken, its energy is measured.
        using (var set = await _daemon.Http.PostAsync(new Uri("/efficiency", UriKind.Relative), new StringContent("""{"mode":"performance"}""")))
        {
            Assert.True(set.IsSuccessStatusCode);
        }

        Assert.Equal("ollama-cpu", await _daemon.ChatAsync(targetBackend: "ollama-cpu"));
        metrics = (await _daemon.GetStringAsync("/metrics")).Split('\n');
        Assert.Contains(metrics, l => l.StartsWith("ollama_proxy_energy_watthours_total{backend=\"ollama-cpu\",basis=\"measured\"} ", StringComparison.Ordinal));
        Assert.DoesNotContain(metrics, l => l.StartsWith("ollama_proxy_energy_watthours_total{backend=\"ollama-cpu\",basis=\"estimated\"}", StringComparison.Ordinal));
        using var after = JsonDocument.Parse(await _daemon.GetStringAsync("/thermal"));
        Assert.True(after.RootElement.GetProperty("backends").GetProperty("ollama-cpu").GetProperty("energy_wh").GetDouble() > 0);
    }
}
