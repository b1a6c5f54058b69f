using System.Collections.Immutable;

namespace Router.Actors.Routing;

/// <summary>Temperature of the device a backend runs on, with its configured limits.</summary>
/// <param name="TemperatureC">Latest reading, or null when the device has no readable sensor.</param>
/// <param name="HotC">Above this the backend is penalised.</param>
/// <param name="LimitC">Above this the backend is excluded.</param>
public sealed record DeviceThermal(double? TemperatureC, double HotC = 80, double LimitC = 95);

/// <summary>
/// What the machine is doing, as the state actors last published it. Pushed to the selector;
/// never polled per request.
/// </summary>
public sealed record SystemState
{
    public static readonly SystemState Default = new();

    /// <summary>The user's chosen mode.</summary>
    public EfficiencyMode Mode { get; init; } = EfficiencyMode.Balanced;
    /// <summary>The mode in force: equals <see cref="Mode"/> unless Mode is Auto.</summary>
    public EfficiencyMode EffectiveMode { get; init; } = EfficiencyMode.Balanced;
    public string ModeReason { get; init; } = "user-selected";

    public bool OnAcPower { get; init; } = true;
    /// <summary>Battery charge 0..100, or null when the machine has no battery.</summary>
    public double? BatteryPercent { get; init; }
    /// <summary>Time until the battery is empty, or null when unknown or not discharging.</summary>
    public TimeSpan? TimeToEmpty { get; init; }
    /// <summary>The desktop's power profile (power-profiles-daemon), or null without it. Read, never changed.</summary>
    public string? PowerProfile { get; init; }
    public bool Throttling { get; init; }
    /// <summary>Hottest temperature on the machine, for Auto and Quiet.</summary>
    public double? MaxTemperatureC { get; init; }
    /// <summary>Device temperature per backend id.</summary>
    public ImmutableDictionary<string, DeviceThermal> ThermalByBackend { get; init; } = ImmutableDictionary<string, DeviceThermal>.Empty;
}
