using System.Collections.Immutable;
using Router.Actors.Config;

namespace Router.Actors.Routing;

/// <summary>
/// The scorer's knobs: defaults for what live metrics do not yet say, the modes' caps and the
/// Balanced weights. Immutable; the selector builds it once from <see cref="RoutingConfig"/>.
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

    /// <summary>Quiet excludes backends drawing more than this (and devices at or above their hot threshold).</summary>
    public double QuietMaxWatts { get; init; } = 30;

    /// <summary>
    /// Balanced cost = latency weight × expected completion in seconds + power weight × watts +
    /// queue weight × requests ahead. The defaults trade 1 s of expected completion for 5 W of
    /// draw and for 2 requests queued ahead (on top of the wait they already add). Absolute
    /// units, not ratios to the best candidate, so removing a backend never flips the order of
    /// two others. On the default devices a 128-token answer goes to the iGPU (4.6 s at 12 W),
    /// an embedding to the NPU, a 512-token answer to the NVIDIA GPU.
    /// </summary>
    public double BalancedLatencyWeightPerSecond { get; init; } = 1.0;

    /// <inheritdoc cref="BalancedLatencyWeightPerSecond"/>
    public double BalancedPowerWeightPerWatt { get; init; } = 0.2;

    /// <inheritdoc cref="BalancedLatencyWeightPerSecond"/>
    public double BalancedQueueWeightPerRequest { get; init; } = 0.5;

    /// <summary>
    /// A device above its hot threshold costs up to (1 + this) times more, growing linearly
    /// from the hot threshold to the limit (above the limit it is excluded).
    /// </summary>
    public double HotPenalty { get; init; } = 1.0;

    /// <summary>A Degraded backend's cost is multiplied by this, so it serves only when clearly better.</summary>
    public double DegradedPenalty { get; init; } = 1.5;

    /// <summary>
    /// When Efficiency is in force because Auto chose it (battery 20–50 %), a request of Normal
    /// priority or above that sets no max latency is kept interactive: backends whose expected
    /// latency is within this budget are preferred, least energy among them. The user did not ask
    /// to wait, so Auto saves energy without making answers noticeably slower. A user who picks
    /// Efficiency gets least energy within the request's own limits. Null disables the budget.
    /// </summary>
    public double? AutoEfficiencyLatencyBudgetMs { get; init; } = 500;

    /// <summary>
    /// Efficiency and Quiet minimise energy or power, which a queue does not change, so left alone
    /// they would pile every request onto the NPU. A candidate whose expected queue wait exceeds
    /// this comes after every candidate that does not (a soft limit: with none inside it, the
    /// frugal order stands). Null disables it.
    /// </summary>
    public double? FrugalMaxWaitMs { get; init; }

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
            // Legacy power_aware: false means Balanced ignores power.
            BalancedPowerWeightPerWatt = config.PowerAware ? Default.BalancedPowerWeightPerWatt : 0,
        };
    }

    internal double DefaultTokensPerSecond(string hardware) =>
        TokensPerSecondByHardware.TryGetValue(hardware, out double tps) && tps > 0 ? tps : FallbackTokensPerSecond;
}
