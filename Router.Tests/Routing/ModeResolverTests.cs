using Router.Actors.Routing;

namespace Router.Tests.Routing;

/// <summary>Auto mode: the mode in effect from AC, battery, temperature and throttling, with hysteresis.</summary>
public sealed class ModeResolverTests
{
    [Theory]
    [InlineData(true, null, 50.0, false, EfficiencyMode.Performance, "on AC and cool: performance")]
    [InlineData(true, 10.0, null, false, EfficiencyMode.Performance, "on AC and cool: performance")]
    [InlineData(false, 100.0, 50.0, false, EfficiencyMode.Balanced, "battery 100% ≥ 50%: balanced")]
    [InlineData(false, 50.0, 50.0, false, EfficiencyMode.Balanced, "battery 50% ≥ 50%: balanced")]
    [InlineData(false, 49.5, 50.0, false, EfficiencyMode.Efficiency, "battery 49.5% < 50%: efficiency")]
    [InlineData(false, 20.0, 50.0, false, EfficiencyMode.Efficiency, "battery 20% < 50%: efficiency")]
    [InlineData(false, 18.0, 50.0, false, EfficiencyMode.UltraEfficiency, "battery 18% < 20%: ultra-efficiency")]
    [InlineData(false, null, 50.0, false, EfficiencyMode.Balanced, "on battery, charge unknown: balanced")]
    [InlineData(true, null, 80.0, false, EfficiencyMode.Quiet, "temperature 80 °C ≥ 80 °C: quiet")]
    [InlineData(false, 10.0, 91.0, false, EfficiencyMode.Quiet, "temperature 91 °C ≥ 80 °C: quiet")]
    [InlineData(true, null, 40.0, true, EfficiencyMode.Quiet, "throttling: quiet")]
    [InlineData(false, 10.0, 40.0, true, EfficiencyMode.Quiet, "throttling: quiet")]
    public void Resolve_Auto_FollowsReadings(bool onAc, double? battery, double? temperature, bool throttling, EfficiencyMode expected, string reason)
    {
        var resolution = ModeResolver.Resolve(EfficiencyMode.Auto, EfficiencyMode.Balanced, new ModeReadings(onAc, battery, temperature, throttling), ModeThresholds.Default);

        Assert.Equal(expected, resolution.EffectiveMode);
        Assert.Equal(reason, resolution.Reason);
    }

    [Theory]
    [InlineData(EfficiencyMode.Performance)]
    [InlineData(EfficiencyMode.Balanced)]
    [InlineData(EfficiencyMode.Efficiency)]
    [InlineData(EfficiencyMode.Quiet)]
    [InlineData(EfficiencyMode.UltraEfficiency)]
    public void Resolve_UserSelectedMode_KeptWhateverTheReadings(EfficiencyMode mode)
    {
        var resolution = ModeResolver.Resolve(mode, EfficiencyMode.Quiet, new ModeReadings(false, 5, 99, true), ModeThresholds.Default);

        Assert.Equal(mode, resolution.EffectiveMode);
        Assert.Equal(ModeResolver.UserSelectedReason, resolution.Reason);
    }

    /// <summary>Leaving a more frugal or quieter mode needs the reading to clear the threshold by the margin.</summary>
    [Theory]
    [InlineData(EfficiencyMode.UltraEfficiency, 21.0, EfficiencyMode.UltraEfficiency, "battery 21% not yet 23%: ultra-efficiency")]
    [InlineData(EfficiencyMode.UltraEfficiency, 23.0, EfficiencyMode.Efficiency, "battery 23% < 50%: efficiency")]
    [InlineData(EfficiencyMode.Efficiency, 21.0, EfficiencyMode.Efficiency, "battery 21% < 50%: efficiency")]
    [InlineData(EfficiencyMode.Efficiency, 51.0, EfficiencyMode.Efficiency, "battery 51% not yet 53%: efficiency")]
    [InlineData(EfficiencyMode.Efficiency, 53.0, EfficiencyMode.Balanced, "battery 53% ≥ 50%: balanced")]
    [InlineData(EfficiencyMode.UltraEfficiency, 51.0, EfficiencyMode.Efficiency, "battery 51% not yet 53%: efficiency")]
    [InlineData(EfficiencyMode.Balanced, 51.0, EfficiencyMode.Balanced, "battery 51% ≥ 50%: balanced")]
    [InlineData(EfficiencyMode.Performance, 21.0, EfficiencyMode.Efficiency, "battery 21% < 50%: efficiency")]
    public void Resolve_BatteryNearThreshold_MarginAppliesOnlyWhenLeavingFrugalMode(EfficiencyMode previous, double battery, EfficiencyMode expected, string reason)
    {
        var resolution = ModeResolver.Resolve(EfficiencyMode.Auto, previous, new ModeReadings(false, battery, 50, false), ModeThresholds.Default);

        Assert.Equal(expected, resolution.EffectiveMode);
        Assert.Equal(reason, resolution.Reason);
    }

    [Theory]
    [InlineData(EfficiencyMode.Quiet, 78.0, EfficiencyMode.Quiet, "temperature 78 °C not yet below 75 °C: quiet")]
    [InlineData(EfficiencyMode.Quiet, 75.0, EfficiencyMode.Performance, "on AC and cool: performance")]
    [InlineData(EfficiencyMode.Performance, 78.0, EfficiencyMode.Performance, "on AC and cool: performance")]
    public void Resolve_TemperatureNearThreshold_LeavesQuietOnlyWhenCooled(EfficiencyMode previous, double temperature, EfficiencyMode expected, string reason)
    {
        var resolution = ModeResolver.Resolve(EfficiencyMode.Auto, previous, new ModeReadings(true, null, temperature, false), ModeThresholds.Default);

        Assert.Equal(expected, resolution.EffectiveMode);
        Assert.Equal(reason, resolution.Reason);
    }

    /// <summary>
    /// The desktop's power profile: power-saver makes Auto frugal, performance fast; heat and a
    /// nearly empty battery still come first; balanced (or no profile daemon) changes nothing.
    /// </summary>
    [Theory]
    [InlineData("power-saver", true, null, 50.0, false, EfficiencyMode.Efficiency, "power profile power-saver: efficiency")]
    [InlineData("power-saver", false, 80.0, 50.0, false, EfficiencyMode.Efficiency, "power profile power-saver: efficiency")]
    [InlineData("power-saver", false, 35.0, 50.0, false, EfficiencyMode.Efficiency, "power profile power-saver: efficiency")]
    [InlineData("power-saver", false, 15.0, 50.0, false, EfficiencyMode.UltraEfficiency, "battery 15% < 20%: ultra-efficiency")]
    [InlineData("power-saver", true, null, 85.0, false, EfficiencyMode.Quiet, "temperature 85 °C ≥ 80 °C: quiet")]
    [InlineData("performance", false, 35.0, 50.0, false, EfficiencyMode.Performance, "power profile performance: performance")]
    [InlineData("performance", false, 80.0, 50.0, false, EfficiencyMode.Performance, "power profile performance: performance")]
    [InlineData("performance", false, 15.0, 50.0, false, EfficiencyMode.UltraEfficiency, "battery 15% < 20%: ultra-efficiency")]
    [InlineData("performance", true, null, 50.0, true, EfficiencyMode.Quiet, "throttling: quiet")]
    [InlineData("balanced", false, 80.0, 50.0, false, EfficiencyMode.Balanced, "battery 80% ≥ 50%: balanced")]
    [InlineData("balanced", true, null, 50.0, false, EfficiencyMode.Performance, "on AC and cool: performance")]
    [InlineData(null, false, 80.0, 50.0, false, EfficiencyMode.Balanced, "battery 80% ≥ 50%: balanced")]
    public void Resolve_PowerProfile_SteersAutoBelowHeatAndLowBattery(string? profile, bool onAc, double? battery, double? temperature, bool throttling, EfficiencyMode expected, string reason)
    {
        var readings = new ModeReadings(onAc, battery, temperature, throttling) { PowerProfile = profile };

        var resolution = ModeResolver.Resolve(EfficiencyMode.Auto, EfficiencyMode.Balanced, readings, ModeThresholds.Default);

        Assert.Equal(expected, resolution.EffectiveMode);
        Assert.Equal(reason, resolution.Reason);
    }

    [Fact]
    public void Resolve_PowerProfileOnUserSelectedMode_Ignored()
    {
        var resolution = ModeResolver.Resolve(EfficiencyMode.Performance, EfficiencyMode.Performance,
            new ModeReadings(true, null, 40, false) { PowerProfile = PowerProfiles.PowerSaver }, ModeThresholds.Default);

        Assert.Equal(EfficiencyMode.Performance, resolution.EffectiveMode);
        Assert.Equal(ModeResolver.UserSelectedReason, resolution.Reason);
    }

    /// <summary>Sequences of readings fed one after another, each resolved against the previous result.</summary>
    public static TheoryData<string, (bool OnAc, double? Battery, double? TemperatureC, bool Throttling)[], EfficiencyMode[]> Sequences => new()
    {
        {
            "battery sitting on 20% does not flap",
            [(false, 20.4, 50, false), (false, 19.8, 50, false), (false, 20.2, 50, false), (false, 19.9, 50, false), (false, 21.5, 50, false), (false, 23.1, 50, false)],
            [EfficiencyMode.Efficiency, EfficiencyMode.UltraEfficiency, EfficiencyMode.UltraEfficiency, EfficiencyMode.UltraEfficiency, EfficiencyMode.UltraEfficiency, EfficiencyMode.Efficiency]
        },
        {
            "battery sitting on 50% does not flap",
            [(false, 50.5, 50, false), (false, 49.9, 50, false), (false, 50.1, 50, false), (false, 52.9, 50, false), (false, 53.0, 50, false)],
            [EfficiencyMode.Balanced, EfficiencyMode.Efficiency, EfficiencyMode.Efficiency, EfficiencyMode.Efficiency, EfficiencyMode.Balanced]
        },
        {
            "temperature sitting on 80 °C does not flap",
            [(true, null, 79.5, false), (true, null, 80.2, false), (true, null, 79.6, false), (true, null, 80.1, false), (true, null, 76.0, false), (true, null, 74.9, false)],
            [EfficiencyMode.Performance, EfficiencyMode.Quiet, EfficiencyMode.Quiet, EfficiencyMode.Quiet, EfficiencyMode.Quiet, EfficiencyMode.Performance]
        },
        {
            "unplugged and draining, then plugged in",
            [(true, 100, 50, false), (false, 97, 50, false), (false, 49, 50, false), (false, 19, 50, false), (false, 15, 50, false), (true, 15, 50, false)],
            [EfficiencyMode.Performance, EfficiencyMode.Balanced, EfficiencyMode.Efficiency, EfficiencyMode.UltraEfficiency, EfficiencyMode.UltraEfficiency, EfficiencyMode.Performance]
        },
        {
            "throttling on battery, then throttling stops while still warm",
            [(false, 60, 70, false), (false, 60, 79, true), (false, 60, 77, false), (false, 60, 74, false)],
            [EfficiencyMode.Balanced, EfficiencyMode.Quiet, EfficiencyMode.Quiet, EfficiencyMode.Balanced]
        },
    };

    [Theory]
    [MemberData(nameof(Sequences))]
    public void Resolve_Sequence_ChangesModeOnlyWhenReadingsClearMargins(
        string scenario, (bool OnAc, double? Battery, double? TemperatureC, bool Throttling)[] readings, EfficiencyMode[] expected)
    {
        _ = scenario;
        var previous = EfficiencyMode.Balanced;
        var actual = new EfficiencyMode[readings.Length];
        for (int i = 0; i < readings.Length; i++)
        {
            var r = readings[i];
            previous = ModeResolver.Resolve(EfficiencyMode.Auto, previous, new ModeReadings(r.OnAc, r.Battery, r.TemperatureC, r.Throttling), ModeThresholds.Default).EffectiveMode;
            actual[i] = previous;
        }

        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Resolve_FromSystemState_UsesItsEffectiveModeAsPrevious()
    {
        var state = SystemState.Default with
        {
            Mode = EfficiencyMode.Auto,
            EffectiveMode = EfficiencyMode.UltraEfficiency,
            OnAcPower = false,
            BatteryPercent = 21,
        };

        var resolution = ModeResolver.Resolve(state, ModeThresholds.Default);

        Assert.Equal(EfficiencyMode.UltraEfficiency, resolution.EffectiveMode);
    }

    [Theory]
    [InlineData(0.0, EfficiencyMode.Quiet, "cooled below 75 °C: quiet until cool for 30 s")]
    [InlineData(29.9, EfficiencyMode.Quiet, "cooled below 75 °C: quiet until cool for 30 s")]
    [InlineData(30.0, EfficiencyMode.Performance, "on AC and cool: performance")]
    public void Resolve_AutoQuietForHeat_HoldsUntilCoolForTheHold(double coolForSeconds, EfficiencyMode expected, string reason)
    {
        var readings = new ModeReadings(true, null, 41, false) { CoolFor = TimeSpan.FromSeconds(coolForSeconds) };

        var resolution = ModeResolver.Resolve(EfficiencyMode.Auto, EfficiencyMode.Quiet, readings, ModeThresholds.Default);

        Assert.Equal(expected, resolution.EffectiveMode);
        Assert.Equal(reason, resolution.Reason);
    }

    [Fact]
    public void Resolve_HotDeviceNamed_ReasonNamesIt()
    {
        var readings = new ModeReadings(true, null, 86.4, false) { HottestBackend = "ollama-nvidia" };

        var resolution = ModeResolver.Resolve(EfficiencyMode.Auto, EfficiencyMode.Performance, readings, ModeThresholds.Default);

        Assert.Equal(EfficiencyMode.Quiet, resolution.EffectiveMode);
        Assert.Equal("ollama-nvidia 86.4 °C ≥ 80 °C: quiet", resolution.Reason);
    }
}
