using System.Collections.Immutable;

namespace Router.Actors.State;

/// <summary>Power as one sample saw it.</summary>
/// <param name="OnAcPower">True on mains power (or when the machine has no battery).</param>
/// <param name="BatteryPercent">Charge 0..100, null without a battery.</param>
/// <param name="MeasuredWattsByBackend">Measured draw per backend where the machine exposes it (RAPL, nvidia-smi).</param>
public sealed record PowerReading(
    bool OnAcPower,
    double? BatteryPercent,
    ImmutableDictionary<string, double> MeasuredWattsByBackend,
    DateTimeOffset At)
{
    public static PowerReading Unknown(DateTimeOffset at) => new(true, null, ImmutableDictionary<string, double>.Empty, at);

    /// <summary>Time until the battery is empty (UPower's TimeToEmpty); null when unknown or not discharging.</summary>
    public TimeSpan? TimeToEmpty { get; init; }

    /// <summary>
    /// The desktop's power profile (power-profiles-daemon's ActiveProfile: <c>power-saver</c>,
    /// <c>balanced</c>, <c>performance</c>); null without the daemon.
    /// </summary>
    public string? PowerProfile { get; init; }

    /// <summary>Equal readings are not republished; the timestamp does not count.</summary>
    public bool SameAs(PowerReading other) =>
        OnAcPower == other.OnAcPower && Nullable.Equals(BatteryPercent, other.BatteryPercent)
        && Nullable.Equals(TimeToEmpty, other.TimeToEmpty) && string.Equals(PowerProfile, other.PowerProfile, StringComparison.Ordinal)
        && DictionaryEquals(MeasuredWattsByBackend, other.MeasuredWattsByBackend);

    internal static bool DictionaryEquals<TValue>(ImmutableDictionary<string, TValue> a, ImmutableDictionary<string, TValue> b)
    {
        if (a.Count != b.Count)
        {
            return false;
        }

        foreach (var (key, value) in a)
        {
            if (!b.TryGetValue(key, out var other) || !EqualityComparer<TValue>.Default.Equals(value, other))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>Temperatures, fans and throttling as one sample saw them.</summary>
/// <param name="TemperatureByBackend">Device temperature per backend id (°C); absent when the device has no sensor.</param>
/// <param name="MaxTemperatureC">Hottest reading on the machine.</param>
/// <param name="Throttling">True while the CPU reports thermal throttling.</param>
/// <param name="FanRpm">Fan speeds by label.</param>
public sealed record ThermalReading(
    ImmutableDictionary<string, double> TemperatureByBackend,
    double? MaxTemperatureC,
    bool Throttling,
    ImmutableDictionary<string, double> FanRpm,
    DateTimeOffset At)
{
    public static ThermalReading Unknown(DateTimeOffset at) =>
        new(ImmutableDictionary<string, double>.Empty, null, false, ImmutableDictionary<string, double>.Empty, at);

    public bool SameAs(ThermalReading other) =>
        Throttling == other.Throttling && Nullable.Equals(MaxTemperatureC, other.MaxTemperatureC)
        && PowerReading.DictionaryEquals(TemperatureByBackend, other.TemperatureByBackend)
        && PowerReading.DictionaryEquals(FanRpm, other.FanRpm);
}

/// <summary>Where power readings come from: Linux sysfs, D-Bus (UPower), or a simulation.</summary>
public interface IPowerSource
{
    ValueTask<PowerReading> ReadPowerAsync(CancellationToken cancellationToken);
}

/// <summary>Where thermal readings come from: Linux sysfs and hwmon, nvidia-smi, or a simulation.</summary>
public interface IThermalSource
{
    ValueTask<ThermalReading> ReadThermalAsync(CancellationToken cancellationToken);
}

/// <summary>A thermal event: a device crossed a configured limit, or throttling started or stopped.</summary>
/// <param name="Kind">hot, over-limit, cooled, throttling-started, throttling-stopped.</param>
public sealed record ThermalEvent(string Kind, string? BackendId, double? TemperatureC, string Message, DateTimeOffset At);
