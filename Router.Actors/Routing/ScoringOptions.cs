using System.Collections.Immutable;
using Router.Actors.Config;

namespace Router.Actors.Routing;

/// <summary>
/// The scorer's knobs: defaults for what live metrics do not yet say, the modes' caps and the
/// wait budgets. Immutable; the selector builds it once from <see cref="RoutingConfig"/>.
/// </summary>
public sealed record ScoringOptions
{
    public static readonly ScoringOptions Default = new();

    /// <summary>Samples of live metrics for a model before they replace the configured characteristics.</summary>
    public int MinSamples { get; init; } = 3;

    /// <summary>Expected answer length when the request does not say.</summary>
    public int DefaultExpectedTokens { get; init; } = 128;

    /// <summary>
    /// Generation speed per hardware kind until live metrics have enough samples. Conservative
    /// figures for a 7–8B model at 4-bit quantisation on each device class.
    /// </summary>
    public ImmutableDictionary<string, double> TokensPerSecondByHardware { get; init; } =
        ImmutableDictionary.CreateRange(
            StringComparer.OrdinalIgnoreCase,
            [
                new KeyValuePair<string, double>("npu", 15),
                new KeyValuePair<string, double>("igpu", 30),
                new KeyValuePair<string, double>("nvidia", 80),
                new KeyValuePair<string, double>("cpu", 10),
            ]);

    /// <summary>Generation speed of a hardware kind not in <see cref="TokensPerSecondByHardware"/>.</summary>
    public double FallbackTokensPerSecond { get; init; } = 10;

    /// <summary>Ultra Efficiency serves only backends drawing strictly less than this.</summary>
    public double UltraEfficiencyMaxWatts { get; init; } = 10;

    /// <summary>
    /// Quiet excludes backends drawing more than this (and devices at or above their hot
    /// threshold). 15 W keeps the NPU and the integrated GPU, which cannot get hot on their own,
    /// and leaves out the 28 W CPU, whose fan a long answer spins up (scripts/bench-routing counts
    /// the seconds each device spends above its hot threshold).
    /// </summary>
    public double QuietMaxWatts { get; init; } = 15;

    /// <summary>
    /// Balanced weighs energy: the least energy among the devices whose first token comes within
    /// the request's wait budget of the fastest. False (legacy <c>power_aware: false</c>): Balanced
    /// ranks by expected completion, power ignored.
    /// </summary>
    public bool BalancedWeighsEnergy { get; init; } = true;

    /// <summary>
    /// A device above its hot threshold costs up to (1 + this) times more, growing linearly
    /// from the hot threshold to the limit (above the limit it is excluded).
    /// </summary>
    public double HotPenalty { get; init; } = 1.0;

    /// <summary>A Degraded backend's cost is multiplied by this, so it serves only when clearly better.</summary>
    public double DegradedPenalty { get; init; } = 1.5;

    /// <summary>
    /// The longest expected queue wait each priority accepts (<c>routing.wait-budget</c>): in every
    /// mode, a candidate over it comes after every candidate within it. Soft: when every candidate
    /// is over it, the one that starts soonest serves. It is also how much later than the fastest a
    /// first token may come where a mode trades latency for energy (Balanced). Null disables both.
    /// </summary>
    public QueueWaits? WaitBudget { get; init; } = RoutingConfig.DefaultWaitBudget;

    /// <summary>
    /// Set when backends preempt: a critical request cancels a request in flight below this
    /// priority rather than wait for it, so its expected latency does not count those. Null (the
    /// default): backends never preempt, every request in flight is waited for.
    /// </summary>
    public Priority? CriticalPreemptsBelow { get; init; }

    /// <summary>
    /// When a request's candidates draw on both a battery and mains power (fleet nodes), the energy
    /// (or power) of a battery-powered candidate counts this many times. Candidates on one kind of
    /// power are compared as before, so a single machine routes exactly as without a fleet.
    /// </summary>
    public double BatteryEnergyWeight { get; init; } = 3;

    /// <summary>Options from the routing and fleet configuration, defaults elsewhere.</summary>
    public static ScoringOptions FromConfig(RouterConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return FromConfig(config.Routing) with { BatteryEnergyWeight = config.Cluster.BatteryEnergyWeight };
    }

    /// <summary>Options from the routing configuration, defaults elsewhere.</summary>
    public static ScoringOptions FromConfig(RoutingConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return Default with
        {
            MinSamples = config.MinSamplesForLiveMetrics,
            DefaultExpectedTokens = config.DefaultExpectedTokens,
            CriticalPreemptsBelow = config.CriticalPreemptsBelow,
            WaitBudget = config.WaitBudget,
            // Legacy power_aware: false means Balanced ignores power.
            BalancedWeighsEnergy = config.PowerAware,
        };
    }

    internal double DefaultTokensPerSecond(string hardware) =>
        TokensPerSecondByHardware.TryGetValue(hardware, out double tps) && tps > 0 ? tps : FallbackTokensPerSecond;
}
