using System.Net.Http.Json;
using System.Text.Json;
using Router.DBus.Power;
using Router.Tests.TestKit;

namespace Router.Tests.DBus.Power;

/// <summary>
/// The real daemon (no simulation: sysfs under an empty folder, the default backends unreachable)
/// with UPower and the current power-profiles-daemon mocked on a private system bus, a notification
/// daemon mocked on its private session bus, in Auto. The machine changes through the mocks'
/// Mock.* methods and Properties.Set; Auto follows, and busctl, gdbus monitor, HTTP and the
/// notification daemon all see it.
/// </summary>
public sealed class DaemonPowerStateTests : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ollama-proxy-daemon-power-").FullName;
    private PrivateBus _session = null!;
    private PrivateBus _system = null!;
    private readonly List<IAsyncDisposable> _processes = [];
    private DBusMock _notifications = null!;
    private DBusMock _profiles = null!;

    public async Task InitializeAsync()
    {
        _session = await PrivateBus.StartAsync();
        _system = await PrivateBus.StartAsync();
        _notifications = await Track(DBusMock.StartAsync(_session.Address, system: false, "notification_daemon", "org.freedesktop.Notifications"));
        await Track(DBusMock.StartAsync(_system.Address, system: true, "upower", DesktopPower.UPowerService, """{"OnBattery": true}"""));
        await SystemCall(DesktopPower.UPowerService, DesktopPower.UPowerPath, "org.freedesktop.DBus.Mock.SetupDisplayDevice",
            "uint32 2", "uint32 2", "42.0", "42.0", "100.0", "10.0", "int64 3600", "int64 0", "true", "'battery-good-symbolic'", "uint32 1");
        var template = await DBusMock.CurrentPowerProfilesTemplateAsync(_folder);
        _profiles = await Track(DBusMock.StartAsync(_system.Address, system: true, template, DesktopPower.ProfilesService));
    }

    private async Task<T> Track<T>(Task<T> start) where T : IAsyncDisposable
    {
        var started = await start;
        _processes.Add(started);
        return started;
    }

    private async Task SystemCall(string service, string path, string method, params string[] args)
    {
        var outcome = await BusTools.GdbusAsync(["call", "--address", _system.Address, "--dest", service, "--object-path", path, "--method", method, .. args]);
        Assert.True(outcome.ExitCode == 0, outcome.ToString());
    }

    private Task SetAsync(string service, string path, string @interface, string property, string value) =>
        SystemCall(service, path, "org.freedesktop.DBus.Properties.Set", @interface, property, value);

    public async Task DisposeAsync()
    {
        for (var i = _processes.Count - 1; i >= 0; i--)
        {
            await _processes[i].DisposeAsync();
        }

        await _system.DisposeAsync();
        await _session.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task Auto_FollowsBatteryProfileAndAc_OnEverySurface()
    {
        var sysfs = Directory.CreateDirectory(Path.Combine(_folder, "sys")).FullName;
        var daemon = DaemonOnBus.Start(_session.Address, _system.Address, ["--http-port", "0", "--grpc-port", "0"],
            ("OLLAMA_PROXY_TELEMETRY_SYSFS_ROOT", sysfs),
            ("OLLAMA_PROXY_TELEMETRY_NVIDIA_SMI", "false"),
            ("OLLAMA_PROXY_ROUTING_DEFAULT_MODE", "auto"));
        _processes.Add(daemon);
        var http = new HttpClient { BaseAddress = await DaemonOnBus.WaitUntilListeningAsync(daemon), Timeout = PrivateBus.Patience };
        using var _ = http;
        await daemon.WaitForTextAsync("Power state: UPower present, power profile balanced", PrivateBus.Patience);
        var address = _session.Address;

        // On battery at 42 %, discharging, an hour left, the balanced profile.
        Assert.Equal("b true", await BusTools.GetPropertyAsync(address, "SystemState", "OnBattery"));
        Assert.Equal("d 42", await BusTools.GetPropertyAsync(address, "SystemState", "BatteryPercent"));
        Assert.Equal("x 3600", await BusTools.GetPropertyAsync(address, "SystemState", "TimeToEmpty"));
        Assert.Equal("s \"balanced\"", await BusTools.GetPropertyAsync(address, "SystemState", "PowerProfile"));
        Assert.Equal("s \"efficiency\"", await BusTools.GetPropertyAsync(address, "Efficiency", "EffectiveMode"));
        await using var monitor = await SignalMonitor.StartAsync(address);

        // Battery 15 %: ultra-efficiency, and one desktop notification says so.
        await SetAsync(DesktopPower.UPowerService, DesktopPower.DisplayDevicePath, DesktopPower.DeviceInterface, "Percentage", "<15.0>");
        await monitor.WaitForAsync("SystemState", "ie.fio.OllamaProxy.SystemState.BatteryLevelChanged", "(15.0,)");
        await monitor.WaitForAsync("Efficiency", "ie.fio.OllamaProxy.Efficiency.ModeChanged", "('efficiency', 'ultra-efficiency', 'battery 15% < 20%: ultra-efficiency')");
        var notified = await _notifications.WaitForLogAsync("Notify", "Ollama Proxy", "AI efficiency: ultra-efficiency");
        Assert.Contains("battery 15% < 20%: ultra-efficiency", notified, StringComparison.Ordinal);

        // Charged back to 42 % with the power-saver profile: frugal, because of the profile.
        await SetAsync(DesktopPower.UPowerService, DesktopPower.DisplayDevicePath, DesktopPower.DeviceInterface, "Percentage", "<42.0>");
        await SetAsync(DesktopPower.ProfilesService, DesktopPower.ProfilesPath, DesktopPower.ProfilesService, "ActiveProfile", "<'power-saver'>");
        await monitor.WaitForAsync("SystemState", "org.freedesktop.DBus.Properties.PropertiesChanged", "'PowerProfile': <'power-saver'>");
        await monitor.WaitForAsync("Efficiency", "org.freedesktop.DBus.Properties.PropertiesChanged", "'Reason': <'power profile power-saver: efficiency'>");
        var efficiency = await http.GetFromJsonAsync<JsonElement>("/efficiency");
        Assert.Equal("efficiency", efficiency.GetProperty("effective_mode").GetString());
        Assert.Equal("power-saver", efficiency.GetProperty("power_profile").GetString());
        Assert.Contains("ollama_proxy_power_profile{profile=\"power-saver\"} 1", await http.GetStringAsync("/metrics"), StringComparison.Ordinal);

        // Back on AC with the balanced profile: performance.
        await SetAsync(DesktopPower.ProfilesService, DesktopPower.ProfilesPath, DesktopPower.ProfilesService, "ActiveProfile", "<'balanced'>");
        await SetAsync(DesktopPower.UPowerService, DesktopPower.UPowerPath, DesktopPower.UPowerService, "OnBattery", "<false>");
        await monitor.WaitForAsync("SystemState", "ie.fio.OllamaProxy.SystemState.PowerSourceChanged", "(false,)");
        await monitor.WaitForAsync("Efficiency", "org.freedesktop.DBus.Properties.PropertiesChanged", "'EffectiveMode': <'performance'>", "'Reason': <'on AC and cool: performance'>");

        // The router read the profile and never set it: the only two writes are this test's.
        var writes = _profiles.Log.Split('\n').Where(l => l.Contains(" Set ", StringComparison.Ordinal) && l.Contains("ActiveProfile", StringComparison.Ordinal)).ToArray();
        Assert.True(writes.Length == 2, string.Join("\n", writes) + "\n---\n" + _profiles.Log);
    }
}
