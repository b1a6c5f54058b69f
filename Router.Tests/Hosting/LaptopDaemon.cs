using System.Collections.Immutable;
using System.Text;
using Router.Actors.Config;
using Router.Actors.Routing;
using Router.Gateway.Hosting;
using Router.Gateway.Simulation;
using Router.Tests.Telemetry;

namespace Router.Tests.Hosting;

/// <summary>
/// The daemon as it runs on a real machine (not <c>--simulate</c>): its power and thermal actors
/// read a fake sysfs tree through the Linux sensors, and its backends are simulated devices
/// started here. The sample interval is an hour, so samples happen at start and on
/// <see cref="SampleNow"/> only.
/// </summary>
internal sealed class LaptopDaemon : IAsyncDisposable
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private readonly IReadOnlyList<SimulatedBackend> _simulators;
    private TaskCompletionSource _stateChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private LaptopDaemon(FakeSysfs sysfs, IReadOnlyList<SimulatedBackend> simulators, RouterHost host)
    {
        Sysfs = sysfs;
        _simulators = simulators;
        Host = host;
        Http = new HttpClient { BaseAddress = host.HttpEndpoint, Timeout = Wait };
        host.Runtime.Observe<SystemState>("test-state-changes", _ => Interlocked.Exchange(
            ref _stateChanged, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult());
    }

    public FakeSysfs Sysfs { get; }
    public RouterHost Host { get; }
    public HttpClient Http { get; }

    /// <summary>
    /// A laptop on battery at 15 %: AC offline, the CPU package at 75 °C (hot for the CPU backend,
    /// whose hot-c is 70 here, yet below the 80 °C at which Auto turns quiet), a fan, throttle
    /// counters, and a RAPL package domain the CPU backend names as its power.
    /// </summary>
    public static FakeSysfs LowBatteryLaptop() => new FakeSysfs()
        .Write("class/thermal/thermal_zone0/type", "acpitz")
        .Write("class/thermal/thermal_zone0/temp", "45000")
        .Write("class/thermal/thermal_zone1/type", "x86_pkg_temp")
        .Write("class/thermal/thermal_zone1/temp", "75000")
        .Write("class/hwmon/hwmon0/name", "coretemp")
        .Write("class/hwmon/hwmon0/temp1_input", "74000")
        .Write("class/hwmon/hwmon0/temp1_label", "Package id 0")
        .Write("class/hwmon/hwmon1/name", "thinkpad")
        .Write("class/hwmon/hwmon1/fan1_input", "4100")
        .Write("class/power_supply/AC/type", "Mains")
        .Write("class/power_supply/AC/online", "0")
        .Write("class/power_supply/BAT0/type", "Battery")
        .Write("class/power_supply/BAT0/present", "1")
        .Write("class/power_supply/BAT0/status", "Discharging")
        .Write("class/power_supply/BAT0/capacity", "15")
        .Write("class/power_supply/BAT0/power_now", "9000000")
        .Write("class/power_supply/BAT0/energy_now", "7500000")
        .Write("class/power_supply/BAT0/energy_full", "50000000")
        .Write("devices/system/cpu/cpu0/thermal_throttle/core_throttle_count", "3")
        .Write("devices/system/cpu/cpu0/thermal_throttle/package_throttle_count", "10")
        .Write("class/powercap/intel-rapl:0/name", "package-0")
        .Write("class/powercap/intel-rapl:0/energy_uj", "1000000")
        .Write("class/powercap/intel-rapl:0/max_energy_range_uj", "262143328850");

    public static async Task<LaptopDaemon> StartAsync()
    {
        var sysfs = LowBatteryLaptop();
        IReadOnlyList<SimulatedBackend> simulators = [];
        try
        {
            simulators = await SimulatedFleet.StartDefaultAsync(timeScale: 0.02);
            var defaults = ConfigLoader.LoadDefault();
            var backends = ImmutableArray.CreateBuilder<BackendConfig>();
            foreach (var backend in defaults.Backends)
            {
                backends.Add(backend.Id == "ollama-cpu" ? backend with { Sensors = backend.Sensors with { HotC = 70, LimitC = 90 } } : backend);
            }

            var config = SimulationSetup.PointAt(defaults with
            {
                Routing = defaults.Routing with { DefaultMode = EfficiencyMode.Auto },
                Telemetry = defaults.Telemetry with { SysfsRoot = sysfs.Root, SampleInterval = TimeSpan.FromHours(1), NvidiaSmi = false },
                Backends = backends.ToImmutable(),
            }, simulators);

            var host = await RouterHost.StartAsync(config, new RouterHostOptions { HttpPort = 0, GrpcPort = 0, ConsoleLogging = false });
            return new LaptopDaemon(sysfs, simulators, host);
        }
        catch
        {
            foreach (var simulator in simulators)
            {
                await simulator.DisposeAsync();
            }

            sysfs.Dispose();
            throw;
        }
    }

    /// <summary>Samples the machine now (both actors share one sample).</summary>
    public void SampleNow() => Host.Runtime.SampleNow();

    /// <summary>Waits, on the actors' own signal, until the published system state satisfies <paramref name="condition"/>.</summary>
    public async Task<SystemState> WaitForStateAsync(Func<SystemState, bool> condition)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (true)
        {
            // Take the signal before reading, so a change in between is not lost.
            var changed = Volatile.Read(ref _stateChanged).Task;
            var state = await Host.Runtime.GetSystemStateAsync(CancellationToken.None);
            if (condition(state))
            {
                return state;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the system state never matched; last: {state}");
            try
            {
                // The re-check bounds the wait for a change published before the observer subscribed.
                await changed.WaitAsync(TimeSpan.FromMilliseconds(500));
            }
            catch (TimeoutException)
            {
            }
        }
    }

    /// <summary>
    /// Scrapes /metrics until every line in <paramref name="expected"/> is there, and returns the
    /// last scrape. Gauges follow the actors' events through their own observers, so they settle a
    /// moment after the state the actors answer with; a state change wakes the next scrape.
    /// </summary>
    public async Task<string> WaitForMetricsAsync(params string[] expected)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (true)
        {
            var changed = Volatile.Read(ref _stateChanged).Task;
            var text = await GetStringAsync("/metrics");
            var lines = text.Split('\n');
            var missing = Array.FindAll(expected, e => Array.IndexOf(lines, e) < 0);
            if (missing.Length == 0)
            {
                return text;
            }

            Assert.True(DateTime.UtcNow < deadline, $"/metrics never showed {string.Join(", ", missing)}:\n{text}");
            try
            {
                await changed.WaitAsync(TimeSpan.FromMilliseconds(100));
            }
            catch (TimeoutException)
            {
            }
        }
    }

    /// <summary>A small non-streaming chat completion; returns the backend that served it.</summary>
    public async Task<string> ChatAsync(string? targetBackend = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"llama3.2:1b","messages":[{"role":"user","content":"hello"}],"max_tokens":8}""", Encoding.UTF8, "application/json"),
        };
        if (targetBackend is not null)
        {
            request.Headers.Add("X-Target-Backend", targetBackend);
        }

        using var response = await Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {body}");
        return Assert.Single(response.Headers.GetValues("X-Backend-Used"));
    }

    public async Task<string> GetStringAsync(string path) => await Http.GetStringAsync(new Uri(path, UriKind.Relative));

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Host.DisposeAsync();
        foreach (var simulator in _simulators)
        {
            await simulator.DisposeAsync();
        }

        Sysfs.Dispose();
    }
}
