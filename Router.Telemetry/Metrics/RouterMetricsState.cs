using System.Collections.Concurrent;
using System.Collections.Immutable;
using Router.Actors.Routing;
using Router.Telemetry.Sensors;

namespace Router.Telemetry.Metrics;

/// <summary>
/// The values behind the observable gauges. Actors and the gateway push into it with plain setters
/// and never see the Meter; the Meter reads it when a collector asks. Every setter is thread-safe
/// and cheap: per-backend figures are ints written with <see cref="Volatile"/>; sensor sets are
/// replaced whole under a lock and read without one.
/// </summary>
public sealed class RouterMetricsState
{
    private const int PriorityCount = 4;
    private const int Unknown = -1;

    private readonly ConcurrentDictionary<string, BackendCell> _backends = new(StringComparer.Ordinal);
    private readonly Lock _sensorLock = new();
    private ImmutableSortedDictionary<string, double> _temperatures = ImmutableSortedDictionary<string, double>.Empty.WithComparers(StringComparer.Ordinal);
    private ImmutableSortedDictionary<string, double> _fans = ImmutableSortedDictionary<string, double>.Empty.WithComparers(StringComparer.Ordinal);
    private ImmutableSortedDictionary<string, double> _backendTemperatures = ImmutableSortedDictionary<string, double>.Empty.WithComparers(StringComparer.Ordinal);
    private ImmutableSortedDictionary<string, double> _power = ImmutableSortedDictionary<string, double>.Empty.WithComparers(StringComparer.Ordinal);
    private double _batteryPercent = double.NaN;
    private int _acOnline = Unknown;
    private int _throttling = Unknown;
    private int _effectiveMode = Unknown;
    private string? _powerProfile;
    private long _timeToEmptyTicks = Unknown;
    private volatile bool _powerFromSystemState;

    // 1. Backends (from BackendActor snapshots).

    /// <summary>Health, in-flight requests and queue depth per priority, from a backend's latest snapshot.</summary>
    public void UpdateBackend(BackendSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var cell = Cell(snapshot.Id);
        Volatile.Write(ref cell.Health, (int)snapshot.Health);
        Volatile.Write(ref cell.InFlight, snapshot.InFlight);
        var queue = snapshot.QueueDepthByPriority;
        for (var p = 0; p < PriorityCount; p++)
        {
            Volatile.Write(ref cell.Queue[p], !queue.IsDefault && p < queue.Length ? queue[p] : 0);
        }
    }

    public void SetBackendHealth(string backendId, BackendHealth health) => Volatile.Write(ref Cell(backendId).Health, (int)health);

    public void SetInFlight(string backendId, int inFlight) => Volatile.Write(ref Cell(backendId).InFlight, inFlight);

    public void SetQueueDepth(string backendId, Priority priority, int depth)
    {
        var index = (int)priority;
        ArgumentOutOfRangeException.ThrowIfNegative(index, nameof(priority));
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, PriorityCount, nameof(priority));
        Volatile.Write(ref Cell(backendId).Queue[index], depth);
    }

    /// <summary>Stops reporting a backend that left the configuration.</summary>
    public void RemoveBackend(string backendId) => _backends.TryRemove(backendId, out _);

    // 2. Machine (from the thermal and power actors).

    /// <summary>
    /// Temperatures, fans, battery, AC and measured power from a sample. Sensors that are unavailable
    /// in it stop being reported, rather than repeating a stale value.
    /// </summary>
    public void UpdateSample(SystemSample sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        var temperatures = ImmutableSortedDictionary.CreateBuilder<string, double>(StringComparer.Ordinal);
        foreach (var sensor in sample.Thermal.Temperatures)
        {
            if (sensor.Celsius is { } c)
            {
                temperatures[sensor.Name] = c;
            }
        }

        foreach (var gpu in sample.Nvidia.Gpus)
        {
            if (gpu.TemperatureC is { } c)
            {
                temperatures[$"nvidia-smi/gpu{gpu.Index}"] = c;
            }
        }

        var fans = ImmutableSortedDictionary.CreateBuilder<string, double>(StringComparer.Ordinal);
        foreach (var fan in sample.Thermal.Fans)
        {
            if (fan.Rpm is { } rpm)
            {
                fans[fan.Name] = rpm;
            }
        }

        var power = ImmutableSortedDictionary.CreateBuilder<string, double>(StringComparer.Ordinal);
        foreach (var domain in sample.Rapl.Domains)
        {
            if (domain.Watts is { } w)
            {
                // Repeated names (a "core" per package) are told apart by their zone.
                power[power.ContainsKey(domain.Name) ? domain.Zone : domain.Name] = w;
            }
        }

        if (sample.Nvidia.PowerWatts is { } gpuWatts)
        {
            power[SystemSample.NvidiaSmiPowerSource] = gpuWatts;
        }

        lock (_sensorLock)
        {
            _temperatures = temperatures.ToImmutable();
            _fans = fans.ToImmutable();
            _power = power.ToImmutable();
        }

        if (!_powerFromSystemState)
        {
            SetBattery(sample.Power.BatteryPercent);
            SetAcOnline(sample.Power.IsAvailable ? sample.Power.OnAcPower : null);
        }
    }

    /// <summary>
    /// Battery and AC come from the system state only, not from sysfs samples: the desktop's UPower
    /// says them, and a sysfs sample in between would show its own view for a moment.
    /// </summary>
    public void TakePowerFromSystemStateOnly() => _powerFromSystemState = true;

    /// <summary>Mode in effect, AC, battery, throttling and device temperatures as the system-state actors published them.</summary>
    public void UpdateSystemState(SystemState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        SetEffectiveMode(state.EffectiveMode);
        SetAcOnline(state.OnAcPower);
        SetBattery(state.BatteryPercent);
        SetThrottling(state.Throttling);
        SetPowerProfile(state.PowerProfile);
        SetTimeToEmpty(state.TimeToEmpty);

        var devices = ImmutableSortedDictionary.CreateBuilder<string, double>(StringComparer.Ordinal);
        foreach (var (backend, thermal) in state.ThermalByBackend)
        {
            if (thermal.TemperatureC is { } c)
            {
                devices[backend] = c;
            }
        }

        lock (_sensorLock)
        {
            _backendTemperatures = devices.ToImmutable();
        }
    }

    public void SetTemperature(string sensor, double? celsius)
    {
        ArgumentNullException.ThrowIfNull(sensor);
        lock (_sensorLock)
        {
            _temperatures = celsius is { } c ? _temperatures.SetItem(sensor, c) : _temperatures.Remove(sensor);
        }
    }

    public void SetFanSpeed(string fan, double? rpm)
    {
        ArgumentNullException.ThrowIfNull(fan);
        lock (_sensorLock)
        {
            _fans = rpm is { } r ? _fans.SetItem(fan, r) : _fans.Remove(fan);
        }
    }

    public void SetPower(string source, double? watts)
    {
        ArgumentNullException.ThrowIfNull(source);
        lock (_sensorLock)
        {
            _power = watts is { } w ? _power.SetItem(source, w) : _power.Remove(source);
        }
    }

    /// <summary>Battery charge 0..100, or null on a machine without one.</summary>
    public void SetBattery(double? percent) => Volatile.Write(ref _batteryPercent, percent ?? double.NaN);

    public void SetAcOnline(bool? online) => Volatile.Write(ref _acOnline, online is { } on ? (on ? 1 : 0) : Unknown);

    public void SetThrottling(bool throttling) => Volatile.Write(ref _throttling, throttling ? 1 : 0);

    /// <summary>The mode in effect (never Auto: Auto resolves to one of the others).</summary>
    public void SetEffectiveMode(EfficiencyMode mode) => Volatile.Write(ref _effectiveMode, (int)mode);

    /// <summary>power-profiles-daemon's active profile, or null without it.</summary>
    public void SetPowerProfile(string? profile) => Volatile.Write(ref _powerProfile, profile);

    /// <summary>Time until the battery is empty, or null when unknown or not discharging.</summary>
    public void SetTimeToEmpty(TimeSpan? remaining) => Volatile.Write(ref _timeToEmptyTicks, remaining is { } r ? r.Ticks : Unknown);

    // 3. Reads for the observable instruments.

    internal IEnumerable<(string BackendId, BackendHealth Health, int InFlight, int[] Queue)> Backends()
    {
        foreach (var (id, cell) in _backends)
        {
            var queue = new int[PriorityCount];
            for (var p = 0; p < PriorityCount; p++)
            {
                queue[p] = Volatile.Read(ref cell.Queue[p]);
            }

            yield return (id, (BackendHealth)Volatile.Read(ref cell.Health), Volatile.Read(ref cell.InFlight), queue);
        }
    }

    internal ImmutableSortedDictionary<string, double> Temperatures => Volatile.Read(ref _temperatures);

    internal ImmutableSortedDictionary<string, double> BackendTemperatures => Volatile.Read(ref _backendTemperatures);

    internal ImmutableSortedDictionary<string, double> Fans => Volatile.Read(ref _fans);

    internal ImmutableSortedDictionary<string, double> Power => Volatile.Read(ref _power);

    internal double? BatteryPercent => Volatile.Read(ref _batteryPercent) is var v && double.IsNaN(v) ? null : v;

    internal bool? AcOnline => Volatile.Read(ref _acOnline) is var v && v == Unknown ? null : v == 1;

    internal bool? Throttling => Volatile.Read(ref _throttling) is var v && v == Unknown ? null : v == 1;

    internal string? PowerProfile => Volatile.Read(ref _powerProfile);

    internal TimeSpan? TimeToEmpty => Volatile.Read(ref _timeToEmptyTicks) is var t && t == Unknown ? null : TimeSpan.FromTicks(t);

    internal EfficiencyMode? EffectiveMode => Volatile.Read(ref _effectiveMode) is var v && v == Unknown ? null : (EfficiencyMode)v;

    private BackendCell Cell(string backendId)
    {
        ArgumentNullException.ThrowIfNull(backendId);
        return _backends.GetOrAdd(backendId, static _ => new BackendCell());
    }

    private sealed class BackendCell
    {
        public int Health;
        public int InFlight;
        public readonly int[] Queue = new int[PriorityCount];
    }
}
