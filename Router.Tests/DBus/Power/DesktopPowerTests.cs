using Router.DBus.Power;
using Tmds.DBus.Protocol;

namespace Router.Tests.DBus.Power;

/// <summary>How UPower's and power-profiles-daemon's properties combine into the machine's power state.</summary>
public sealed class DesktopPowerTests
{
    private static Dictionary<string, VariantValue> Display(double percent, uint state, long timeToEmpty, bool present = true) => new()
    {
        ["Percentage"] = VariantValue.Double(percent),
        ["State"] = VariantValue.UInt32(state),
        ["TimeToEmpty"] = VariantValue.Int64(timeToEmpty),
        ["IsPresent"] = VariantValue.Bool(present),
    };

    private static Dictionary<string, VariantValue> OnBattery(bool onBattery) => new() { ["OnBattery"] = VariantValue.Bool(onBattery) };

    private static Dictionary<string, VariantValue> Profile(string profile) => new() { ["ActiveProfile"] = VariantValue.String(profile) };

    [Theory]
    [InlineData("discharging at 42 %, an hour left", true, 42.0, 3600.0, null)]
    [InlineData("charging: no time to empty", false, 42.0, null, null)]
    [InlineData("no battery present: no charge", false, null, null, null)]
    [InlineData("no UPower: nothing known, the profile still", null, null, null, "power-saver")]
    [InlineData("both profile daemons: the current name wins", false, 80.0, null, "performance")]
    [InlineData("only the legacy profile daemon", false, 80.0, null, "balanced")]
    public void Combine_Readings_GiveThePowerState(string scenario, bool? onBattery, double? percent, double? secondsToEmpty, string? profile)
    {
        var state = scenario switch
        {
            "discharging at 42 %, an hour left" => DesktopPower.Combine(OnBattery(true), Display(42, 2, 3600), null, null),
            "charging: no time to empty" => DesktopPower.Combine(OnBattery(false), Display(42, 1, 3600), null, null),
            "no battery present: no charge" => DesktopPower.Combine(OnBattery(false), Display(0, 0, 0, present: false), null, null),
            "no UPower: nothing known, the profile still" => DesktopPower.Combine(null, null, null, Profile("power-saver")),
            "both profile daemons: the current name wins" => DesktopPower.Combine(OnBattery(false), Display(80, 4, 0), Profile("performance"), Profile("power-saver")),
            _ => DesktopPower.Combine(OnBattery(false), Display(80, 4, 0), null, Profile("balanced")),
        };

        Assert.Equal(onBattery, state.OnBattery);
        Assert.Equal(percent, state.BatteryPercent);
        Assert.Equal(secondsToEmpty is { } s ? TimeSpan.FromSeconds(s) : null, state.TimeToEmpty);
        Assert.Equal(profile, state.PowerProfile);
    }
}
