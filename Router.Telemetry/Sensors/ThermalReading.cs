using System.Collections.Immutable;
using Router.Actors.Config;

namespace Router.Telemetry.Sensors;

/// <summary>Where a temperature comes from.</summary>
public enum TemperatureSource
{
    /// <summary><c>/sys/class/thermal/thermal_zone*</c>; the sensor name is the zone's <c>type</c>.</summary>
    ThermalZone,
    /// <summary><c>/sys/class/hwmon/hwmon*/temp*_input</c>; the sensor name is <c>name/label</c>.</summary>
    Hwmon,
}

/// <summary>One temperature sensor: degrees Celsius, or unavailable with the reason.</summary>
/// <param name="Name">Stable display name: the zone type (<c>x86_pkg_temp</c>) or <c>chip/label</c> (<c>coretemp/Package id 0</c>, <c>amdgpu/temp1</c>).</param>
/// <param name="Chip">The zone type or the hwmon <c>name</c>.</param>
/// <param name="Label">The hwmon <c>temp*_label</c>, or null.</param>
public sealed record TemperatureSensor(string Name, TemperatureSource Source, string Chip, string? Label, double? Celsius, string? UnavailableReason = null)
{
    public bool IsAvailable => Celsius.HasValue;

    /// <summary>
    /// True when a configured sensor name (<see cref="SensorConfig.Temperature"/>) names this sensor:
    /// a thermal zone <c>type</c>, an hwmon <c>name</c> (all its temperatures) or an hwmon <c>name/label</c>.
    /// </summary>
    public bool Matches(string configured) =>
        string.Equals(configured, Chip, StringComparison.OrdinalIgnoreCase)
        || (Source == TemperatureSource.Hwmon && (string.Equals(configured, Name, StringComparison.OrdinalIgnoreCase) || IsChipSlashLabel(configured)));

    /// <summary><c>chip/label</c> even when the name carries a suffix that tells two same-named chips apart.</summary>
    private bool IsChipSlashLabel(string configured) =>
        Label is { } label
        && configured.Length == Chip.Length + 1 + label.Length
        && configured[Chip.Length] == '/'
        && configured.StartsWith(Chip, StringComparison.OrdinalIgnoreCase)
        && configured.EndsWith(label, StringComparison.OrdinalIgnoreCase);
}

/// <summary>One fan: revolutions per minute, or unavailable with the reason.</summary>
/// <param name="Name"><c>chip/label</c> or <c>chip/fanN</c>.</param>
public sealed record FanSensor(string Name, string Chip, string? Label, double? Rpm, string? UnavailableReason = null)
{
    public bool IsAvailable => Rpm.HasValue;
}

/// <summary>Every temperature and fan on the machine at one instant.</summary>
public sealed record ThermalReading(
    DateTimeOffset Timestamp,
    ImmutableArray<TemperatureSensor> Temperatures,
    ImmutableArray<FanSensor> Fans,
    string? UnavailableReason = null)
{
    /// <summary>False when the machine exposes no temperature at all (the reason says why).</summary>
    public bool IsAvailable => UnavailableReason is null;

    /// <summary>The hottest readable sensor, or null.</summary>
    public double? MaxTemperatureC
    {
        get
        {
            double? max = null;
            foreach (var sensor in Temperatures)
            {
                if (sensor.Celsius is { } c)
                {
                    max = max is { } m ? Math.Max(m, c) : c;
                }
            }

            return max;
        }
    }

    /// <summary>The hottest sensor among those configured for a device (<see cref="SensorConfig.Temperature"/>), or null when none is readable.</summary>
    public double? TemperatureFor(SensorConfig sensors)
    {
        ArgumentNullException.ThrowIfNull(sensors);
        return TemperatureFor(sensors.Temperature);
    }

    /// <summary>The hottest sensor whose zone type, hwmon name or hwmon <c>name/label</c> is in <paramref name="names"/>.</summary>
    public double? TemperatureFor(ImmutableArray<string> names)
    {
        if (names.IsDefaultOrEmpty)
        {
            return null;
        }

        double? max = null;
        foreach (var sensor in Temperatures)
        {
            if (sensor.Celsius is not { } c)
            {
                continue;
            }

            foreach (var name in names)
            {
                if (sensor.Matches(name))
                {
                    max = max is { } m ? Math.Max(m, c) : c;
                    break;
                }
            }
        }

        return max;
    }
}
