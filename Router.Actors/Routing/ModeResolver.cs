using System.Globalization;

namespace Router.Actors.Routing;

/// <summary>Where Auto changes mode. Each threshold has a margin so a reading sitting on it does not flap the mode.</summary>
public sealed record ModeThresholds
{
    public static readonly ModeThresholds Default = new();

    /// <summary>On battery below this charge, Ultra Efficiency.</summary>
    public double UltraEfficiencyBelowPercent { get; init; } = 20;

    /// <summary>On battery below this charge (and not below the Ultra threshold), Efficiency; at or above, Balanced.</summary>
    public double EfficiencyBelowPercent { get; init; } = 50;

    /// <summary>Charge a battery must regain above a threshold before Auto becomes less frugal again.</summary>
    public double BatteryMarginPercent { get; init; } = 3;

    /// <summary>At or above this temperature (the machine's hottest reading), Quiet.</summary>
    public double HotC { get; init; } = 80;

    /// <summary>Degrees below <see cref="HotC"/> the machine must cool before Auto leaves Quiet.</summary>
    public double TemperatureMarginC { get; init; } = 5;

    /// <summary>
    /// How long the machine must stay below <see cref="HotC"/> − <see cref="TemperatureMarginC"/>
    /// (and not throttle) before Auto leaves the Quiet it chose for heat. A device out of use cools
    /// within seconds, so without it Auto would go back to the hot device while the load that heated
    /// it still runs, and flap between Quiet and the faster mode.
    /// </summary>
    public TimeSpan QuietHold { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>The readings Auto follows.</summary>
/// <param name="BatteryPercent">Charge 0..100, or null when the machine has no battery.</param>
/// <param name="MaxTemperatureC">The machine's hottest temperature, or null when nothing is readable.</param>
public readonly record struct ModeReadings(bool OnAcPower, double? BatteryPercent, double? MaxTemperatureC, bool Throttling)
{
    /// <summary>The desktop's power profile (<see cref="PowerProfiles"/>), or null without power-profiles-daemon.</summary>
    public string? PowerProfile { get; init; }

    /// <summary>The backend whose device reads <see cref="MaxTemperatureC"/>, when it is a backend's; it names the heat in the reason.</summary>
    public string? HottestBackend { get; init; }

    /// <summary>
    /// How long the machine has been cool (below the temperature at which Auto leaves Quiet, and not
    /// throttling) since Auto went Quiet for heat or throttling; null when the caller does not track
    /// it, and Auto leaves Quiet as soon as the machine is cool.
    /// </summary>
    public TimeSpan? CoolFor { get; init; }

    public static ModeReadings From(SystemState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return new ModeReadings(state.OnAcPower, state.BatteryPercent, state.MaxTemperatureC, state.Throttling) { PowerProfile = state.PowerProfile };
    }
}

/// <summary>power-profiles-daemon's profile names (its ActiveProfile property).</summary>
public static class PowerProfiles
{
    public const string PowerSaver = "power-saver";
    public const string Balanced = "balanced";
    public const string Performance = "performance";
}

/// <summary>The mode in force and why, e.g. <c>battery 18% &lt; 20%: ultra-efficiency</c>.</summary>
public readonly record struct ModeResolution(EfficiencyMode EffectiveMode, string Reason);

/// <summary>
/// Auto mode as a pure function of the user's mode, the mode Auto last chose and the readings.
/// In order: throttling → Quiet; hot → Quiet; on battery below 20 % → Ultra Efficiency; the
/// desktop's power profile power-saver → Efficiency (frugal), performance → Performance (fast);
/// on AC (or no battery) → Performance; on battery ≥ 50 % → Balanced, 20–50 % → Efficiency.
/// </summary>
/// <remarks>
/// The power profile is the user's own word on the whole machine (the GNOME or KDE power menu), so
/// it outranks what AC and the battery's band would pick; heat and a nearly empty battery still
/// come first, because they protect the machine and the last of its charge.
/// </remarks>
/// <remarks>
/// Hysteresis: entering a more frugal or quieter mode happens at the threshold; leaving it needs
/// the reading to clear the threshold by the margin (battery 3 %, temperature 5 °C), judged
/// against the previous effective mode. Quiet also holds until the machine has stayed cool for
/// <see cref="ModeThresholds.QuietHold"/> (<see cref="ModeReadings.CoolFor"/>). A battery that reads 19.9, 20.1, 19.9 … stays in Ultra
/// Efficiency until it reaches 23 %. AC and throttling are on/off signals and need no margin.
/// </remarks>
public static class ModeResolver
{
    public const string UserSelectedReason = "user-selected";

    public static ModeResolution Resolve(EfficiencyMode mode, EfficiencyMode previousEffective, ModeReadings readings, ModeThresholds thresholds)
    {
        ArgumentNullException.ThrowIfNull(thresholds);
        if (mode != EfficiencyMode.Auto)
        {
            return new ModeResolution(mode, UserSelectedReason);
        }

        if (readings.Throttling)
        {
            return new ModeResolution(EfficiencyMode.Quiet, "throttling: quiet");
        }

        if (readings.MaxTemperatureC is { } temperature)
        {
            string what = readings.HottestBackend ?? "temperature";
            if (temperature >= thresholds.HotC)
            {
                return new ModeResolution(EfficiencyMode.Quiet, Invariant($"{what} {temperature:0.#} °C ≥ {thresholds.HotC:0.#} °C: quiet"));
            }

            double coolBelow = thresholds.HotC - thresholds.TemperatureMarginC;
            if (previousEffective == EfficiencyMode.Quiet && temperature > coolBelow)
            {
                return new ModeResolution(EfficiencyMode.Quiet, Invariant($"{what} {temperature:0.#} °C not yet below {coolBelow:0.#} °C: quiet"));
            }
        }

        if (previousEffective == EfficiencyMode.Quiet && readings.CoolFor is { } coolFor && coolFor < thresholds.QuietHold)
        {
            // Worded without the seconds so far: the reason changes (and is republished) only with the mode.
            return new ModeResolution(EfficiencyMode.Quiet, Invariant(
                $"cooled below {thresholds.HotC - thresholds.TemperatureMarginC:0.#} °C: quiet until cool for {thresholds.QuietHold.TotalSeconds:0.#} s"));
        }

        // The margin applies only when leaving a more frugal mode, so each threshold is judged
        // against where Auto was.
        bool wasUltra = previousEffective == EfficiencyMode.UltraEfficiency;
        bool wasFrugal = wasUltra || previousEffective == EfficiencyMode.Efficiency;
        double ultraBelow = thresholds.UltraEfficiencyBelowPercent + (wasUltra ? thresholds.BatteryMarginPercent : 0);
        double efficiencyBelow = thresholds.EfficiencyBelowPercent + (wasFrugal ? thresholds.BatteryMarginPercent : 0);

        if (!readings.OnAcPower && readings.BatteryPercent is { } low && low < ultraBelow)
        {
            return new ModeResolution(
                EfficiencyMode.UltraEfficiency,
                low < thresholds.UltraEfficiencyBelowPercent
                    ? Invariant($"battery {low:0.#}% < {thresholds.UltraEfficiencyBelowPercent:0.#}%: ultra-efficiency")
                    : Invariant($"battery {low:0.#}% not yet {ultraBelow:0.#}%: ultra-efficiency"));
        }

        switch (readings.PowerProfile)
        {
            case PowerProfiles.PowerSaver:
                return new ModeResolution(EfficiencyMode.Efficiency, "power profile power-saver: efficiency");
            case PowerProfiles.Performance:
                return new ModeResolution(EfficiencyMode.Performance, "power profile performance: performance");
        }

        if (readings.OnAcPower)
        {
            return new ModeResolution(EfficiencyMode.Performance, "on AC and cool: performance");
        }

        if (readings.BatteryPercent is not { } battery)
        {
            return new ModeResolution(EfficiencyMode.Balanced, "on battery, charge unknown: balanced");
        }

        if (battery < efficiencyBelow)
        {
            return new ModeResolution(
                EfficiencyMode.Efficiency,
                battery < thresholds.EfficiencyBelowPercent
                    ? Invariant($"battery {battery:0.#}% < {thresholds.EfficiencyBelowPercent:0.#}%: efficiency")
                    : Invariant($"battery {battery:0.#}% not yet {efficiencyBelow:0.#}%: efficiency"));
        }

        return new ModeResolution(EfficiencyMode.Balanced, Invariant($"battery {battery:0.#}% ≥ {thresholds.EfficiencyBelowPercent:0.#}%: balanced"));
    }

    /// <summary>Resolves from a system state, taking its current effective mode as the previous one.</summary>
    public static ModeResolution Resolve(SystemState state, ModeThresholds thresholds)
    {
        ArgumentNullException.ThrowIfNull(state);
        return Resolve(state.Mode, state.EffectiveMode, ModeReadings.From(state), thresholds);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
