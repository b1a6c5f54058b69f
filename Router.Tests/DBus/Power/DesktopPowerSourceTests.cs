using Microsoft.Extensions.Logging.Abstractions;
using Router.Actors.Config;
using Router.DBus.Power;
using Router.Telemetry.Sensors;
using Router.Tests.Telemetry;

namespace Router.Tests.DBus.Power;

/// <summary>
/// The desktop's power state read from python3-dbusmock's UPower and power-profiles-daemon on a
/// private "system" bus: read at start, then followed through their signals (no polling), with
/// sysfs power_supply as the source wherever UPower is absent.
/// </summary>
public sealed class DesktopPowerSourceTests : IAsyncLifetime
{
    private PrivateBus _system = null!;
    private FakeSysfs _sysfs = null!;
    private LinuxMachineSource _sysfsSource = null!;
    private readonly List<IAsyncDisposable> _mocks = [];
    private readonly string _folder = Directory.CreateTempSubdirectory("ollama-proxy-power-").FullName;

    public async Task InitializeAsync()
    {
        _system = await PrivateBus.StartAsync();
        // The sysfs reader the desktop source wraps: AC online, one battery at 76 %.
        _sysfs = FakeSysfs.Laptop();
        _sysfsSource = new LinuxMachineSource(_sysfs.Config, [], TimeProvider.System);
    }

    public async Task DisposeAsync()
    {
        foreach (var mock in _mocks)
        {
            await mock.DisposeAsync();
        }

        await _system.DisposeAsync();
        _sysfs.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    private async Task<DBusMock> StartMockAsync(string template, string name, string? parameters = null)
    {
        var mock = await DBusMock.StartAsync(_system.Address, system: true, template, name, parameters);
        _mocks.Add(mock);
        return mock;
    }

    private Task SetupBatteryAsync(double percent, uint state, long timeToEmpty) => Gdbus(
        "call", "--address", _system.Address, "--dest", DesktopPower.UPowerService, "--object-path", DesktopPower.UPowerPath,
        "--method", "org.freedesktop.DBus.Mock.SetupDisplayDevice",
        "uint32 2", $"uint32 {state}", $"{percent:0.0}", $"{percent:0.0}", "100.0", "10.0", $"int64 {timeToEmpty}", "int64 0", "true", "'battery-good-symbolic'", "uint32 1");

    private Task SetAsync(string service, string path, string @interface, string property, string value) => Gdbus(
        "call", "--address", _system.Address, "--dest", service, "--object-path", path,
        "--method", "org.freedesktop.DBus.Properties.Set", @interface, property, value);

    private static async Task Gdbus(params string[] args)
    {
        var outcome = await BusTools.GdbusAsync(args);
        Assert.True(outcome.ExitCode == 0, outcome.ToString());
    }

    /// <summary>Runs <paramref name="change"/> and waits until the source has seen a change for which <paramref name="done"/> holds.</summary>
    private static async Task ChangeAndWaitAsync(DesktopPowerSource source, Func<Task> change, Func<DesktopPowerState, bool> done)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        source.Changed = () =>
        {
            if (done(source.State))
            {
                seen.TrySetResult();
            }
        };
        await change();
        if (!done(source.State))
        {
            await seen.Task.WaitAsync(PrivateBus.Patience);
        }
    }

    [Fact]
    public async Task UPowerAndLegacyProfiles_ReadAtStartAndFollowedThroughSignals()
    {
        await StartMockAsync("upower", DesktopPower.UPowerService, """{"OnBattery": true}""");
        await SetupBatteryAsync(42, state: 2, timeToEmpty: 3600);
        await StartMockAsync("power_profiles_daemon", DesktopPower.LegacyProfilesService);

        using var source = await DesktopPowerSource.StartAsync(_system.Address, _sysfsSource, NullLogger.Instance, CancellationToken.None);

        Assert.NotNull(source);
        var reading = await source.ReadPowerAsync(CancellationToken.None);
        Assert.False(reading.OnAcPower);
        Assert.Equal(42, reading.BatteryPercent);
        Assert.Equal(TimeSpan.FromHours(1), reading.TimeToEmpty);
        Assert.Equal("balanced", reading.PowerProfile);

        await ChangeAndWaitAsync(source,
            () => SetAsync(DesktopPower.UPowerService, DesktopPower.DisplayDevicePath, DesktopPower.DeviceInterface, "Percentage", "<15.0>"),
            s => s.BatteryPercent == 15);
        await ChangeAndWaitAsync(source,
            () => SetAsync(DesktopPower.LegacyProfilesService, DesktopPower.LegacyProfilesPath, DesktopPower.LegacyProfilesService, "ActiveProfile", "<'power-saver'>"),
            s => s.PowerProfile == "power-saver");
        await ChangeAndWaitAsync(source,
            () => SetAsync(DesktopPower.UPowerService, DesktopPower.UPowerPath, DesktopPower.UPowerService, "OnBattery", "<false>"),
            s => s.OnBattery == false);

        reading = await source.ReadPowerAsync(CancellationToken.None);
        Assert.True(reading.OnAcPower);
        Assert.Equal(15, reading.BatteryPercent);
        Assert.Equal("power-saver", reading.PowerProfile);
    }

    [Fact]
    public async Task CurrentProfilesName_PreferredOverTheLegacyOne()
    {
        var template = await DBusMock.CurrentPowerProfilesTemplateAsync(_folder);
        await StartMockAsync(template, DesktopPower.ProfilesService, """{"ActiveProfile": "performance"}""");
        await StartMockAsync("power_profiles_daemon", DesktopPower.LegacyProfilesService, """{"ActiveProfile": "power-saver"}""");

        using var source = await DesktopPowerSource.StartAsync(_system.Address, _sysfsSource, NullLogger.Instance, CancellationToken.None);

        Assert.NotNull(source);
        Assert.Equal("performance", (await source.ReadPowerAsync(CancellationToken.None)).PowerProfile);
        await ChangeAndWaitAsync(source,
            () => SetAsync(DesktopPower.ProfilesService, DesktopPower.ProfilesPath, DesktopPower.ProfilesService, "ActiveProfile", "<'balanced'>"),
            s => s.PowerProfile == "balanced");
    }

    [Fact]
    public async Task NoUPower_SysfsStaysTheSourceUntilUPowerAppears()
    {
        using var source = await DesktopPowerSource.StartAsync(_system.Address, _sysfsSource, NullLogger.Instance, CancellationToken.None);

        Assert.NotNull(source);
        var reading = await source.ReadPowerAsync(CancellationToken.None);
        Assert.True(reading.OnAcPower);
        Assert.Equal(76, reading.BatteryPercent);
        Assert.Null(reading.PowerProfile);

        // UPower starting later is noticed from its name appearing, not by polling.
        await ChangeAndWaitAsync(source, () => StartMockAsync("upower", DesktopPower.UPowerService, """{"OnBattery": true}"""), s => s.OnBattery == true);
        reading = await source.ReadPowerAsync(CancellationToken.None);
        Assert.False(reading.OnAcPower);
    }

    [Fact]
    public async Task SystemBusUnreachable_NoDesktopSource()
    {
        var source = await DesktopPowerSource.StartAsync(TestKit.TestBuses.Nowhere, _sysfsSource, NullLogger.Instance, CancellationToken.None);

        Assert.Null(source);
    }
}
