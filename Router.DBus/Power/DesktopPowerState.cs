using Tmds.DBus.Protocol;

namespace Router.DBus.Power;

/// <summary>What UPower and power-profiles-daemon say about the machine; null fields are unknown.</summary>
/// <param name="OnBattery">UPower's OnBattery; null without UPower.</param>
/// <param name="BatteryPercent">The display device's Percentage; null without UPower or without a battery.</param>
/// <param name="TimeToEmpty">The display device's TimeToEmpty while it discharges; null otherwise.</param>
/// <param name="PowerProfile">power-profiles-daemon's ActiveProfile; null without it.</param>
internal sealed record DesktopPowerState(bool? OnBattery, double? BatteryPercent, TimeSpan? TimeToEmpty, string? PowerProfile)
{
    public static readonly DesktopPowerState Unknown = new(null, null, null, null);
}

/// <summary>The names, paths and property readings of UPower and power-profiles-daemon.</summary>
internal static class DesktopPower
{
    public const string UPowerService = "org.freedesktop.UPower";
    public const string UPowerPath = "/org/freedesktop/UPower";
    public const string DisplayDevicePath = "/org/freedesktop/UPower/devices/DisplayDevice";
    public const string DeviceInterface = "org.freedesktop.UPower.Device";

    /// <summary>power-profiles-daemon 0.20 and later.</summary>
    public const string ProfilesService = "org.freedesktop.UPower.PowerProfiles";
    public const string ProfilesPath = "/org/freedesktop/UPower/PowerProfiles";
    /// <summary>power-profiles-daemon 0.12 and older (still on many distributions).</summary>
    public const string LegacyProfilesService = "net.hadess.PowerProfiles";
    public const string LegacyProfilesPath = "/net/hadess/PowerProfiles";

    /// <summary>UPower's device State: discharging.</summary>
    private const uint Discharging = 2;

    /// <summary>Combines the readings: UPower's manager and display device, and whichever profile daemon answers (the current name first).</summary>
    public static DesktopPowerState Combine(
        IReadOnlyDictionary<string, VariantValue>? upower,
        IReadOnlyDictionary<string, VariantValue>? display,
        IReadOnlyDictionary<string, VariantValue>? profiles,
        IReadOnlyDictionary<string, VariantValue>? legacyProfiles)
    {
        bool? onBattery = upower is not null && upower.TryGetValue("OnBattery", out var b) && b.Type == VariantValueType.Bool ? b.GetBool() : null;
        double? percent = null;
        TimeSpan? timeToEmpty = null;
        if (onBattery is not null && display is not null
            && display.TryGetValue("IsPresent", out var present) && present.Type == VariantValueType.Bool && present.GetBool())
        {
            if (display.TryGetValue("Percentage", out var p) && p.Type == VariantValueType.Double)
            {
                percent = Math.Clamp(p.GetDouble(), 0, 100);
            }

            if (display.TryGetValue("State", out var state) && state.Type == VariantValueType.UInt32 && state.GetUInt32() == Discharging
                && display.TryGetValue("TimeToEmpty", out var tte) && tte.Type == VariantValueType.Int64 && tte.GetInt64() > 0)
            {
                timeToEmpty = TimeSpan.FromSeconds(tte.GetInt64());
            }
        }

        var profile = ActiveProfile(profiles) ?? ActiveProfile(legacyProfiles);
        return new DesktopPowerState(onBattery, percent, timeToEmpty, profile);
    }

    private static string? ActiveProfile(IReadOnlyDictionary<string, VariantValue>? properties) =>
        properties is not null && properties.TryGetValue("ActiveProfile", out var active) && active.Type == VariantValueType.String && active.GetString().Length > 0
            ? active.GetString()
            : null;
}
