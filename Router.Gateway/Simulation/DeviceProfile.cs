using System.Collections.Immutable;

namespace Router.Gateway.Simulation;

/// <summary>
/// How a simulated device behaves: time to first token, generation speed, power draw and heat.
/// The four defaults match the default backends (DESIGN.md's device table).
/// </summary>
/// <param name="Name">Device name, also the backend's hardware kind: <c>npu</c>, <c>igpu</c>, <c>nvidia</c>, <c>cpu</c>.</param>
/// <param name="PowerWatts">Draw while generating.</param>
public sealed record DeviceProfile(string Name, TimeSpan TimeToFirstToken, double TokensPerSecond, double PowerWatts)
{
    public static readonly ImmutableArray<string> DefaultModels = ImmutableArray.Create("llama3.2:1b", "qwen2.5:0.5b", "nomic-embed-text");

    public static readonly DeviceProfile Npu = new("npu", TimeSpan.FromMilliseconds(800), 15, 3)
    {
        IdlePowerWatts = 0.3, MaxTemperatureRiseC = 15, FanMaxRpm = 0,
    };

    public static readonly DeviceProfile Igpu = new("igpu", TimeSpan.FromMilliseconds(350), 30, 12)
    {
        IdlePowerWatts = 1.5, MaxTemperatureRiseC = 35,
    };

    public static readonly DeviceProfile Nvidia = new("nvidia", TimeSpan.FromMilliseconds(150), 80, 55)
    {
        IdlePowerWatts = 8, MaxTemperatureRiseC = 42,
    };

    public static readonly DeviceProfile Cpu = new("cpu", TimeSpan.FromMilliseconds(1200), 10, 28)
    {
        IdlePowerWatts = 4, MaxTemperatureRiseC = 45,
    };

    /// <summary>The four default devices, in the order of the default backends.</summary>
    public static readonly ImmutableArray<DeviceProfile> Defaults = ImmutableArray.Create(Npu, Igpu, Nvidia, Cpu);

    /// <summary>Hardware kind as the router's config names it (same as <see cref="Name"/> for the defaults).</summary>
    public string Hardware { get; init; } = Name;

    /// <summary>Draw while idle.</summary>
    public double IdlePowerWatts { get; init; } = PowerWatts / 10;

    public double AmbientC { get; init; } = 40;

    /// <summary>Temperature above ambient reached after long continuous load.</summary>
    public double MaxTemperatureRiseC { get; init; } = 30;

    /// <summary>How fast the temperature follows the load (first-order lag), in simulated time.</summary>
    public TimeSpan ThermalTimeConstant { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The fan's top speed (at 90 °C); 0 for a passively cooled device (the NPU).</summary>
    public double FanMaxRpm { get; init; } = 5000;

    /// <summary>Models this device holds (served by /api/tags and /v1/models).</summary>
    public ImmutableArray<string> Models { get; init; } = DefaultModels;
}
