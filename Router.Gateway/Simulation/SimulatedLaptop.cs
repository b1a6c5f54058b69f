using System.Collections.Immutable;
using System.Diagnostics;
using Router.Actors.Config;
using Router.Telemetry.Sensors;

namespace Router.Gateway.Simulation;

/// <summary>What the simulated laptop is made of besides its devices.</summary>
/// <param name="BatteryCapacityWh">A full battery.</param>
/// <param name="BaseLoadWatts">Screen, memory, the rest of the system: drawn whether or not a device works.</param>
/// <param name="ChargeWatts">What the charger puts into the battery on AC until it is full.</param>
public sealed record LaptopProfile(double BatteryCapacityWh = 60, double BaseLoadWatts = 8, double ChargeWatts = 30, double InitialBatteryPercent = 80)
{
    public static readonly LaptopProfile Default = new();
}

/// <summary>
/// The whole simulated machine of <c>--simulate</c>, read the way the sysfs readers read a real one:
/// each sample has a thermal zone, a fan and a RAPL-style energy counter per simulated device (from
/// its <see cref="ThermalModel"/>), a battery that drains by the devices' power plus a base load
/// while off AC and charges on AC, and a throttle counter. It is an <see cref="ISystemStateSource"/>:
/// <see cref="LinuxMachineSource"/> maps its samples onto the backends for the thermal and power
/// actors and feeds the energy meter and <c>/metrics</c>, exactly as with the sysfs samples.
/// </summary>
/// <remarks>
/// <c>POST /simulation</c> overrides any of it: AC, the battery's charge (which then drains or
/// charges on from there; null takes the battery out), a device's temperature (held until set to
/// null, then the device's own model again) and throttling. Time is simulated time: real time
/// divided by the time scale, as the devices' own. Thread-safe: one lock around the whole state;
/// samples are taken one at a time, overrides are rare.
/// </remarks>
public sealed class SimulatedLaptop : ISystemStateSource
{
    /// <summary>The sensor name (thermal zone type, RAPL domain) of a simulated device's hardware kind.</summary>
    public static string SensorName(string hardware) => "sim-" + hardware;

    private const string FanChip = "sim";

    private readonly Lock _lock = new();
    private readonly ImmutableArray<(string BackendId, SimulatedBackend Device)> _devices;
    private readonly LaptopProfile _profile;
    private readonly TimeProvider _time;
    private readonly double _speedUp;

    // Guarded by _lock.
    private readonly Dictionary<string, double> _heldTemperatures = new(StringComparer.Ordinal);
    private readonly Dictionary<string, double> _lastDeviceEnergyWh = new(StringComparer.Ordinal);
    private bool _onAc = true;
    private double? _batteryWh;
    private bool _throttling;
    private long _throttleCount;
    private long _lastTimestamp;
    private double _lastLoadWatts;

    /// <param name="devices">Each simulated device with the backend id it serves.</param>
    /// <param name="timeScale">The devices' time scale (0 or 1: real time).</param>
    public SimulatedLaptop(IEnumerable<(string BackendId, SimulatedBackend Device)> devices, double timeScale, TimeProvider time, LaptopProfile? profile = null)
    {
        ArgumentNullException.ThrowIfNull(devices);
        ArgumentNullException.ThrowIfNull(time);
        _devices = [.. devices];
        _profile = profile ?? LaptopProfile.Default;
        _time = time;
        _speedUp = timeScale > 0 ? 1 / timeScale : 1;
        _lastTimestamp = time.GetTimestamp();
        _batteryWh = _profile.BatteryCapacityWh * _profile.InitialBatteryPercent / 100;
        foreach (var (backendId, device) in _devices)
        {
            _lastDeviceEnergyWh[backendId] = device.GetState().EnergyWh;
        }
    }

    /// <summary>The backends' sensors as the simulated samples name them: each backend's device zone and energy counter.</summary>
    public static SensorConfig SensorsFor(SensorConfig? configured, string hardware) =>
        (configured ?? new SensorConfig()) with { Temperature = [SensorName(hardware)], Power = SensorName(hardware) };

    public bool OnAcPower
    {
        get { lock (_lock) return _onAc; }
    }

    /// <summary>The charge as the battery reports it (whole percent, like sysfs <c>capacity</c>), or null without a battery.</summary>
    public double? BatteryPercent
    {
        get
        {
            lock (_lock)
            {
                Advance();
                return ReportedPercent();
            }
        }
    }

    public void SetAcPower(bool online)
    {
        lock (_lock)
        {
            Advance();
            _onAc = online;
        }
    }

    /// <summary>Sets the battery's charge (it drains or charges on from there); null: no battery.</summary>
    public void SetBatteryPercent(double? percent)
    {
        if (percent is < 0 or > 100)
        {
            throw new ArgumentOutOfRangeException(nameof(percent), percent, "Battery charge is a percentage from 0 to 100.");
        }

        lock (_lock)
        {
            Advance();
            _batteryWh = percent is { } p ? _profile.BatteryCapacityWh * p / 100 : null;
        }
    }

    /// <summary>Holds a backend's device at <paramref name="celsius"/>; null gives it back to its model.</summary>
    public void SetTemperature(string backendId, double? celsius)
    {
        ArgumentNullException.ThrowIfNull(backendId);
        lock (_lock)
        {
            if (celsius is { } c)
            {
                _heldTemperatures[backendId] = c;
            }
            else
            {
                _heldTemperatures.Remove(backendId);
            }
        }
    }

    public void SetThrottling(bool throttling)
    {
        lock (_lock)
        {
            _throttling = throttling;
        }
    }

    /// <summary>Each backend's device temperature now (held or modelled), for <c>GET /simulation</c>.</summary>
    public ImmutableSortedDictionary<string, double> Temperatures()
    {
        lock (_lock)
        {
            var temperatures = ImmutableSortedDictionary.CreateBuilder<string, double>(StringComparer.Ordinal);
            foreach (var (backendId, device) in _devices)
            {
                temperatures[backendId] = TemperatureOf(backendId, device.GetState());
            }

            return temperatures.ToImmutable();
        }
    }

    public bool Throttling
    {
        get { lock (_lock) return _throttling; }
    }

    public ValueTask<SystemSample> SampleAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return ValueTask.FromResult(Sample());
        }
    }

    private SystemSample Sample()
    {
        Advance();
        var now = _time.GetUtcNow();
        var zones = ImmutableArray.CreateBuilder<TemperatureSensor>(_devices.Length);
        var fans = ImmutableArray.CreateBuilder<FanSensor>(_devices.Length);
        var domains = ImmutableArray.CreateBuilder<RaplDomainReading>(_devices.Length);
        foreach (var (backendId, device) in _devices)
        {
            var state = device.GetState();
            var name = SensorName(device.Profile.Hardware);
            var celsius = TemperatureOf(backendId, state);
            zones.Add(new TemperatureSensor(name, TemperatureSource.ThermalZone, name, null, celsius));
            if (device.Profile.FanMaxRpm > 0)
            {
                var label = device.Profile.Hardware + "-fan";
                fans.Add(new FanSensor(FanChip + "/" + label, FanChip, label, FanRpm(device.Profile, celsius)));
            }

            domains.Add(new RaplDomainReading(name, name, state.EnergyWh * 3600, state.PowerWatts));
        }

        if (_throttling)
        {
            _throttleCount++;
        }

        var power = new PowerSupplyReading(now) { AcOnline = _onAc };
        if (_batteryWh is { } energy)
        {
            var status = _onAc ? (energy >= _profile.BatteryCapacityWh ? BatteryStatus.Full : BatteryStatus.Charging) : BatteryStatus.Discharging;
            var watts = status switch
            {
                BatteryStatus.Discharging => _lastLoadWatts,
                BatteryStatus.Charging => _profile.ChargeWatts,
                _ => 0,
            };
            var percent = ReportedPercent();
            power = power with
            {
                Batteries = [new BatteryReading("BAT0", percent, status, watts, energy, _profile.BatteryCapacityWh)],
                BatteryPercent = percent,
                BatteryStatus = status,
                BatteryPowerWatts = watts,
                BatteryEnergyWh = energy,
            };
        }

        return new SystemSample(
            now,
            new Router.Telemetry.Sensors.ThermalReading(now, zones.MoveToImmutable(), fans.ToImmutable()),
            new ThrottleReading(now, _throttleCount, 0),
            power,
            new RaplReading(now, domains.MoveToImmutable()),
            new NvidiaReading(now, [], "the simulated laptop has no nvidia-smi", Absent: true));
    }

    private double TemperatureOf(string backendId, SimulatedDeviceState state) =>
        _heldTemperatures.TryGetValue(backendId, out var held) ? held : state.TemperatureC;

    /// <summary>Off below 45 °C, then rising linearly to the device's top speed at 90 °C.</summary>
    internal static double FanRpm(DeviceProfile device, double celsius)
    {
        const double OffBelowC = 45, FullAtC = 90, SpinUpShare = 0.3;
        if (celsius < OffBelowC)
        {
            return 0;
        }

        var share = Math.Min(1, (celsius - OffBelowC) / (FullAtC - OffBelowC));
        return Math.Round(device.FanMaxRpm * (SpinUpShare + ((1 - SpinUpShare) * share)));
    }

    private double? ReportedPercent() =>
        _batteryWh is { } energy ? Math.Round(100 * energy / _profile.BatteryCapacityWh) : null;

    /// <summary>
    /// Moves the battery to now: off AC it loses the devices' energy since the last call (their own
    /// counters, idle draw included) plus the base load; on AC it gains the charger's power until full.
    /// Caller holds the lock.
    /// </summary>
    private void Advance()
    {
        Debug.Assert(_lock.IsHeldByCurrentThread, "Callers hold the lock.");
        var now = _time.GetTimestamp();
        var seconds = _time.GetElapsedTime(_lastTimestamp, now).TotalSeconds * _speedUp;
        _lastTimestamp = now;
        double devicesWh = 0;
        foreach (var (backendId, device) in _devices)
        {
            var energy = device.GetState().EnergyWh;
            devicesWh += Math.Max(0, energy - _lastDeviceEnergyWh[backendId]);
            _lastDeviceEnergyWh[backendId] = energy;
        }

        if (seconds <= 0)
        {
            return;
        }

        var loadWh = devicesWh + (_profile.BaseLoadWatts * seconds / 3600);
        _lastLoadWatts = loadWh * 3600 / seconds;
        if (_batteryWh is { } battery)
        {
            _batteryWh = _onAc
                ? Math.Min(_profile.BatteryCapacityWh, battery + (_profile.ChargeWatts * seconds / 3600))
                : Math.Max(0, battery - loadWh);
        }
    }
}
