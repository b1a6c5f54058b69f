using System.Collections.Immutable;
using Router.Actors.Config;

namespace Router.Telemetry.Sensors;

/// <summary>
/// Reads thermal zones (<c>class/thermal/thermal_zone*/{type,temp}</c>, millidegrees Celsius) and
/// hwmon chips (<c>class/hwmon/hwmon*/{name,temp*_input,temp*_label,fan*_input,fan*_label}</c>,
/// millidegrees and RPM) under a sysfs root. Never throws for what it finds on disk: a missing,
/// unreadable or garbled attribute makes that sensor unavailable with the reason.
/// </summary>
public sealed class ThermalReader
{
    /// <summary>Readings outside this range are sensor faults (a disconnected probe reads -273 °C or 255 °C on some chips).</summary>
    private const double MinPlausibleC = -40;
    private const double MaxPlausibleC = 150;

    private readonly string _thermalClass;
    private readonly string _hwmonClass;
    private readonly ISysfsAccess _access;
    private readonly TimeProvider _time;

    public ThermalReader(TelemetryConfig config, TimeProvider timeProvider)
        : this(config, timeProvider, SysfsAccess.Instance)
    {
    }

    internal ThermalReader(TelemetryConfig config, TimeProvider timeProvider, ISysfsAccess access)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _thermalClass = Path.Combine(config.SysfsRoot, "class", "thermal");
        _hwmonClass = Path.Combine(config.SysfsRoot, "class", "hwmon");
        _access = access;
        _time = timeProvider;
    }

    public ThermalReading Read()
    {
        var temperatures = ImmutableArray.CreateBuilder<TemperatureSensor>();
        var fans = ImmutableArray.CreateBuilder<FanSensor>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        ReadZones(temperatures, names);
        ReadHwmon(temperatures, fans, names);

        var now = _time.GetUtcNow();
        return temperatures.Count == 0 && fans.Count == 0
            ? new ThermalReading(now, [], [], $"no thermal zones or hwmon sensors under {_thermalClass} or {_hwmonClass}")
            : new ThermalReading(now, temperatures.ToImmutable(), fans.ToImmutable());
    }

    /// <summary>
    /// Names are unique within a reading (they key metric series): a second <c>nvme/Composite</c> or
    /// <c>acpitz</c> is told apart by its directory, <c>nvme/Composite (hwmon3)</c>.
    /// </summary>
    private static string Unique(HashSet<string> names, string name, string dir)
    {
        var unique = names.Add(name) ? name : $"{name} ({Path.GetFileName(dir)})";
        names.Add(unique);
        return unique;
    }

    private void ReadZones(ImmutableArray<TemperatureSensor>.Builder temperatures, HashSet<string> names)
    {
        foreach (var zone in _access.List(_thermalClass, "thermal_zone*"))
        {
            var typeRead = _access.Read(Path.Combine(zone, "type"));
            var type = typeRead.Ok && typeRead.Text.Length > 0 ? typeRead.Text : Path.GetFileName(zone);
            temperatures.Add(Temperature(Unique(names, type, zone), TemperatureSource.ThermalZone, type, null, Path.Combine(zone, "temp")));
        }
    }

    private void ReadHwmon(ImmutableArray<TemperatureSensor>.Builder temperatures, ImmutableArray<FanSensor>.Builder fans, HashSet<string> names)
    {
        foreach (var chipDir in _access.List(_hwmonClass, "hwmon*"))
        {
            var nameRead = _access.Read(Path.Combine(chipDir, "name"));
            var chip = nameRead.Ok && nameRead.Text.Length > 0 ? nameRead.Text : Path.GetFileName(chipDir);

            foreach (var input in _access.List(chipDir, "temp*_input"))
            {
                var index = SysfsNames.IndexAfter(Path.GetFileName(input), "temp");
                if (index < 0)
                {
                    continue;
                }

                var label = Label(chipDir, $"temp{index}_label");
                var name = Unique(names, $"{chip}/{label ?? $"temp{index}"}", chipDir);
                temperatures.Add(Temperature(name, TemperatureSource.Hwmon, chip, label, input));
            }

            foreach (var input in _access.List(chipDir, "fan*_input"))
            {
                var index = SysfsNames.IndexAfter(Path.GetFileName(input), "fan");
                if (index < 0)
                {
                    continue;
                }

                var label = Label(chipDir, $"fan{index}_label");
                var name = Unique(names, $"{chip}/{label ?? $"fan{index}"}", chipDir);
                fans.Add(SysfsNames.TryReadLong(_access, input, out var rpm, out var reason)
                    ? rpm >= 0 ? new FanSensor(name, chip, label, rpm) : new FanSensor(name, chip, label, null, $"{input} holds a negative speed")
                    : new FanSensor(name, chip, label, null, reason));
            }
        }
    }

    private string? Label(string chipDir, string file)
    {
        var read = _access.Read(Path.Combine(chipDir, file));
        return read.Ok && read.Text.Length > 0 ? read.Text : null;
    }

    private TemperatureSensor Temperature(string name, TemperatureSource source, string chip, string? label, string path)
    {
        if (!SysfsNames.TryReadLong(_access, path, out var milli, out var reason))
        {
            return new TemperatureSensor(name, source, chip, label, null, reason);
        }

        var celsius = milli / 1000.0;
        return celsius is < MinPlausibleC or > MaxPlausibleC
            ? new TemperatureSensor(name, source, chip, label, null, $"{path} reads {celsius} °C, outside what a working sensor reports")
            : new TemperatureSensor(name, source, chip, label, celsius);
    }
}
