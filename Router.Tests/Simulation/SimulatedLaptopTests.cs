using System.Collections.Immutable;
using Router.Actors.Config;
using Router.Actors.State;
using Router.Gateway.Simulation;
using Router.Telemetry.Energy;
using Router.Telemetry.Metrics;
using Router.Telemetry.Sensors;
using static Router.Tests.Backends.BackendTestKit;

namespace Router.Tests.Simulation;

/// <summary>
/// The simulated laptop read through the same path as a real machine's sysfs (LinuxMachineSource):
/// the readings the thermal and power actors get, the energy meter and the gauges.
/// </summary>
public sealed class SimulatedLaptopTests : IAsyncLifetime
{
    private const string NpuId = "ollama-npu", NvidiaId = "ollama-nvidia";
    private readonly ManualClock _clock = new();
    private readonly HttpClient _http = new();
    private SimulatedBackend _npu = null!;
    private SimulatedBackend _nvidia = null!;
    private SimulatedLaptop _laptop = null!;
    private LinuxMachineSource _source = null!;
    private RouterMetricsState _metrics = null!;
    private EnergyMeter _energy = null!;

    public async Task InitializeAsync()
    {
        var options = new SimulatorOptions { TimeScale = 1, TimeProvider = _clock };
        _npu = await SimulatedBackend.StartAsync(DeviceProfile.Npu, options);
        _nvidia = await SimulatedBackend.StartAsync(DeviceProfile.Nvidia, options);
        _laptop = new SimulatedLaptop([(NpuId, _npu), (NvidiaId, _nvidia)], timeScale: 1, _clock);
        BackendConfig[] backends =
        [
            Backends.BackendTestKit.Config(_npu.Endpoint) with { Id = NpuId, Hardware = "npu", Sensors = SimulatedLaptop.SensorsFor(null, "npu") },
            Backends.BackendTestKit.Config(_nvidia.Endpoint) with { Id = NvidiaId, Hardware = "nvidia", Sensors = SimulatedLaptop.SensorsFor(new SensorConfig { Power = "nvidia-smi" }, "nvidia") },
        ];
        _metrics = new RouterMetricsState();
        _energy = new EnergyMeter(_clock, TimeSpan.FromHours(1));
        // A sample interval of zero: every read takes a new sample.
        _source = new LinuxMachineSource(_laptop, backends, _clock, TimeSpan.Zero, _energy, _metrics);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _npu.DisposeAsync();
        await _nvidia.DisposeAsync();
    }

    [Fact]
    public async Task Read_Idle_EveryDeviceHasATemperatureAndTheBatteryCharges()
    {
        var thermal = await _source.ReadThermalAsync(CancellationToken.None);
        var power = await _source.ReadPowerAsync(CancellationToken.None);

        Assert.Equal(DeviceProfile.Npu.AmbientC, thermal.TemperatureByBackend[NpuId]);
        Assert.Equal(DeviceProfile.Nvidia.AmbientC, thermal.TemperatureByBackend[NvidiaId]);
        // The NPU is passively cooled; the GPU's fan is off while it is cool.
        Assert.Equal(0, Assert.Single(thermal.FanRpm).Value);
        Assert.True(power.OnAcPower);
        Assert.Equal(LaptopProfile.Default.InitialBatteryPercent, power.BatteryPercent);
        Assert.Null(power.TimeToEmpty);
        Assert.Equal(DeviceProfile.Nvidia.IdlePowerWatts, power.MeasuredWattsByBackend[NvidiaId]);
    }

    [Fact]
    public async Task Read_GpuBusyForFiveMinutesOffAc_HotFanSpinningBatteryDrainingMeasuredPower()
    {
        await using var busy = await KeepBusyAsync(_nvidia);
        _laptop.SetAcPower(false);
        _ = await _source.ReadPowerAsync(CancellationToken.None);

        _clock.Advance(TimeSpan.FromMinutes(5));
        var thermal = await _source.ReadThermalAsync(CancellationToken.None);
        var power = await _source.ReadPowerAsync(CancellationToken.None);

        Assert.InRange(thermal.TemperatureByBackend[NvidiaId], 80, DeviceProfile.Nvidia.AmbientC + DeviceProfile.Nvidia.MaxTemperatureRiseC);
        Assert.Equal(thermal.TemperatureByBackend[NvidiaId], thermal.MaxTemperatureC);
        Assert.InRange(thermal.FanRpm["sim/nvidia-fan"], 4000, DeviceProfile.Nvidia.FanMaxRpm);
        Assert.False(power.OnAcPower);
        Assert.Equal(DeviceProfile.Nvidia.PowerWatts, power.MeasuredWattsByBackend[NvidiaId], 3);
        // 5 min at 55 W (GPU) + 0.3 W (NPU idle) + 8 W (the rest): 5.3 Wh of 60 Wh, about 9 %.
        Assert.Equal(LaptopProfile.Default.InitialBatteryPercent - 9, power.BatteryPercent);
        Assert.NotNull(power.TimeToEmpty);
        Assert.InRange(power.TimeToEmpty.Value.TotalMinutes, 35, 45); // 42.7 Wh left at 63.3 W
        // The same samples reached the energy meter and the gauges.
        Assert.Equal(DeviceProfile.Nvidia.PowerWatts * 5 / 60, _energy.Measure(NvidiaId, "sim-nvidia", 1, _clock.GetUtcNow() - TimeSpan.FromMinutes(5)).WattHours, 2);
        Assert.Equal(power.BatteryPercent, _metrics.BatteryPercent);
    }

    [Fact]
    public async Task Read_OnAc_BatteryChargesUntilFull()
    {
        _laptop.SetBatteryPercent(90);

        _clock.Advance(TimeSpan.FromMinutes(6)); // 30 W for 0.1 h: 3 Wh, 5 %
        var charging = await _source.ReadPowerAsync(CancellationToken.None);
        _clock.Advance(TimeSpan.FromHours(1));
        var full = await _source.ReadPowerAsync(CancellationToken.None);

        Assert.Equal(95, charging.BatteryPercent);
        Assert.Equal(100, full.BatteryPercent);
    }

    [Fact]
    public async Task Overrides_HeldUntilReleased_ThenTheModelAgain()
    {
        _laptop.SetTemperature(NpuId, 91);
        _laptop.SetThrottling(true);
        _laptop.SetBatteryPercent(null);
        _ = await _source.ReadThermalAsync(CancellationToken.None);
        _clock.Advance(TimeSpan.FromMinutes(10));
        var held = await _source.ReadThermalAsync(CancellationToken.None);
        var noBattery = await _source.ReadPowerAsync(CancellationToken.None);

        _laptop.SetTemperature(NpuId, null);
        _laptop.SetThrottling(false);
        var released = await _source.ReadThermalAsync(CancellationToken.None);
        var notThrottling = await _source.ReadThermalAsync(CancellationToken.None);

        Assert.Equal(91, held.TemperatureByBackend[NpuId]);
        Assert.True(held.Throttling);
        Assert.Null(noBattery.BatteryPercent);
        Assert.Equal(DeviceProfile.Npu.AmbientC, released.TemperatureByBackend[NpuId]);
        Assert.False(notThrottling.Throttling);
    }

    /// <summary>A request the device holds (its hang fault) until disposed: the device is busy meanwhile.</summary>
    private async Task<IAsyncDisposable> KeepBusyAsync(SimulatedBackend device)
    {
        device.Faults.Hang = true;
        var stop = new CancellationTokenSource();
        var request = _http.GetAsync(new Uri(device.Endpoint, "api/version"), stop.Token);
        await device.WaitUntilAsync(s => s.ActiveRequests == 1, Timeout());
        return new Busy(device, stop, request);
    }

    private sealed record Busy(SimulatedBackend Device, CancellationTokenSource Stop, Task Request) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Stop.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Request);
            await Device.WaitUntilAsync(s => s.ActiveRequests == 0, Timeout());
            Stop.Dispose();
        }
    }
}
