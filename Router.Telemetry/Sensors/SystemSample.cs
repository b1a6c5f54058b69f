using Router.Actors.Config;

namespace Router.Telemetry.Sensors;

/// <summary>Everything the machine says about heat and power at one instant. Each part may be unavailable on its own.</summary>
public sealed record SystemSample(
    DateTimeOffset Timestamp,
    ThermalReading Thermal,
    ThrottleReading Throttle,
    PowerSupplyReading Power,
    RaplReading Rapl,
    NvidiaReading Nvidia)
{
    /// <summary>The <see cref="SensorConfig.Power"/> value that selects nvidia-smi's power draw.</summary>
    public const string NvidiaSmiPowerSource = "nvidia-smi";

    /// <summary>A sample in which nothing is available, for sources that have not read yet.</summary>
    public static SystemSample Unavailable(DateTimeOffset timestamp, string reason) => new(
        timestamp,
        new ThermalReading(timestamp, [], [], reason),
        new ThrottleReading(timestamp, null, null, reason),
        new PowerSupplyReading(timestamp) { UnavailableReason = reason },
        new RaplReading(timestamp, [], reason),
        new NvidiaReading(timestamp, [], reason, Absent: true));

    /// <summary>The hottest sensor anywhere, NVIDIA GPUs included, or null.</summary>
    public double? MaxTemperatureC => (Thermal.MaxTemperatureC, Nvidia.MaxTemperatureC) switch
    {
        ({ } a, { } b) => Math.Max(a, b),
        (var a, var b) => a ?? b,
    };

    /// <summary>
    /// The temperature of a backend's device: the hottest of its configured sensors. A device whose
    /// power source is nvidia-smi and that names no sensor takes the hottest NVIDIA GPU.
    /// </summary>
    public double? TemperatureFor(SensorConfig sensors)
    {
        ArgumentNullException.ThrowIfNull(sensors);
        var fromSysfs = Thermal.TemperatureFor(sensors);
        if (fromSysfs is null && IsNvidia(sensors.Power))
        {
            return Nvidia.MaxTemperatureC;
        }

        return fromSysfs;
    }

    /// <summary>Measured power of a backend's device (its RAPL domain or nvidia-smi), or null when not measured.</summary>
    public double? PowerWattsFor(SensorConfig sensors)
    {
        ArgumentNullException.ThrowIfNull(sensors);
        return PowerWattsFor(sensors.Power);
    }

    /// <summary>Measured power of a source: a RAPL domain name or zone, or <see cref="NvidiaSmiPowerSource"/>.</summary>
    public double? PowerWattsFor(string? powerSource) => powerSource switch
    {
        null or "" => null,
        _ when IsNvidia(powerSource) => Nvidia.PowerWatts,
        _ => Rapl.Domain(powerSource)?.Watts,
    };

    internal static bool IsNvidia(string? powerSource) =>
        string.Equals(powerSource, NvidiaSmiPowerSource, StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// Where system samples come from: the sysfs readers (<see cref="SystemSampler"/>), a simulation, and
/// later UPower and power-profiles-daemon over D-Bus. The state actors sample through this only.
/// </summary>
public interface ISystemStateSource
{
    ValueTask<SystemSample> SampleAsync(CancellationToken cancellationToken = default);
}
