using System.Collections.Immutable;
using Router.Actors.Routing;
using static Router.Tests.Routing.RoutingFixtures;

namespace Router.Tests.Routing;

/// <summary>Estimates: configured figures until live metrics have enough samples; energy = power × busy time.</summary>
public sealed class ScorerEstimateTests
{
    /// <summary>128 tokens by default: busy = ttft + 128 / tok/s; energy = W × busy / 3600.</summary>
    [Theory]
    [InlineData(Npu, 800, 3 * (0.8 + (128 / 15.0)) / 3600)]
    [InlineData(Igpu, 350, 12 * (0.35 + (128 / 30.0)) / 3600)]
    [InlineData(Nvidia, 150, 55 * (0.15 + (128 / 80.0)) / 3600)]
    [InlineData(Cpu, 1200, 28 * (1.2 + (128 / 10.0)) / 3600)]
    public void Route_IdleBackend_EstimatesFromConfiguration(string target, double latencyMs, double energyWh)
    {
        var hints = RoutingHints.Default with { Target = target };

        var decision = Routed(Scorer.Route(Request(hints), DefaultBackends(), InMode(EfficiencyMode.Balanced), ScoringOptions.Default));

        Assert.Equal(latencyMs, decision.Estimate.LatencyMs, 6);
        Assert.Equal(energyWh, decision.Estimate.EnergyWh, 9);
    }

    [Theory]
    [InlineData(2, Nvidia)]
    [InlineData(3, Igpu)]
    public void Route_LiveMetricsWithEnoughSamples_ReplaceConfiguredLatency(int samples, string expected)
    {
        // The NVIDIA GPU turns out slow to first token for this model (it keeps reloading it).
        var backends = With(Nvidia, b => b with
        {
            MetricsByModel = ImmutableDictionary<string, ModelMetrics>.Empty.Add(Model, new ModelMetrics(2500, 80, samples)),
        });
        var hints = RoutingHints.Default with { LatencyCritical = true };

        var decision = Routed(Scorer.Route(Request(hints), backends, InMode(EfficiencyMode.Balanced), ScoringOptions.Default));

        Assert.Equal(expected, decision.BackendId);
    }

    [Fact]
    public void Route_LiveTokensPerSecond_ChangesEnergy()
    {
        var backends = With(Npu, b => b with
        {
            MetricsByModel = ImmutableDictionary<string, ModelMetrics>.Empty.Add(Model, new ModelMetrics(800, 4, 10)),
        });

        // At 4 tok/s the NPU needs 32.8 s for 128 tokens: 27 mWh, more than the iGPU's 15 mWh.
        var decision = Routed(Scorer.Route(Request(), backends, InMode(EfficiencyMode.Efficiency), ScoringOptions.Default));

        Assert.Equal(Igpu, decision.BackendId);
    }

    [Fact]
    public void Route_Embedding_BusyTimeIsFirstTokenOnly()
    {
        var request = Request(RoutingHints.Default with { Target = Nvidia }) with { IsEmbedding = true, ExpectedTokens = 500 };

        var decision = Routed(Scorer.Route(request, DefaultBackends(), InMode(EfficiencyMode.Balanced), ScoringOptions.Default));

        Assert.Equal(55 * 0.15 / 3600, decision.Estimate.EnergyWh, 9);
    }

    [Fact]
    public void Route_Alternatives_InScoreOrderWithEstimates()
    {
        var decision = Routed(Scorer.Route(Request(), DefaultBackends(), InMode(EfficiencyMode.Performance), ScoringOptions.Default));

        Assert.Equal(Nvidia, decision.BackendId);
        Assert.Equal(new[] { Igpu, Npu, Cpu }, decision.Alternatives);
        Assert.Equal([350.0, 800.0, 1200.0], decision.AlternativeEstimates.Select(e => e.LatencyMs));
        Assert.Equal([12.0, 3.0, 28.0], decision.AlternativeEstimates.Select(e => e.PowerWatts));
    }

    [Theory]
    [InlineData(0, 0, "a")]
    [InlineData(0, 1, "b")]
    [InlineData(2, 1, "a")]
    public void Route_EqualCost_HigherConfiguredPriorityThenIdWins(int priorityA, int priorityB, string expected)
    {
        BackendSnapshot[] backends =
        [
            Backend("b", "igpu", 12, 350) with { ConfiguredPriority = priorityB },
            Backend("a", "igpu", 12, 350) with { ConfiguredPriority = priorityA },
        ];

        var decision = Routed(Scorer.Route(Request(), backends, InMode(EfficiencyMode.Balanced), ScoringOptions.Default));

        Assert.Equal(expected, decision.BackendId);
    }

    [Theory]
    [InlineData(BackendHealth.Healthy, Nvidia)]
    [InlineData(BackendHealth.Degraded, Igpu)]
    public void Route_DegradedBackend_ServesOnlyWhenClearlyBetter(BackendHealth health, string expected)
    {
        // Latency-critical: NVIDIA at 300 ms against the iGPU's 350 ms; Degraded, it costs 1.5 × 300 = 450 and loses.
        var backends = With(Nvidia, b => b with { Health = health, AvgLatencyMs = 300 });
        var hints = RoutingHints.Default with { LatencyCritical = true };

        var decision = Routed(Scorer.Route(Request(hints), backends, InMode(EfficiencyMode.Performance), ScoringOptions.Default));

        Assert.Equal(expected, decision.BackendId);
    }

    [Fact]
    public void Route_NoModelNamed_RoutesOnConfiguredFigures()
    {
        var decision = Routed(Scorer.Route(Request(model: null), DefaultBackends(), InMode(EfficiencyMode.Performance), ScoringOptions.Default));

        Assert.Equal(Nvidia, decision.BackendId);
    }

    [Fact]
    public void Route_NoBackends_FailsNoHealthyBackend()
    {
        var failure = Failed(Scorer.Route(Request(), [], InMode(EfficiencyMode.Performance), ScoringOptions.Default));

        Assert.Equal(RouteFailureKind.NoHealthyBackend, failure.Kind);
    }

    [Fact]
    public void FromConfig_PowerAwareOff_BalancedIgnoresPower()
    {
        var options = ScoringOptions.FromConfig(new Router.Actors.Config.RoutingConfig { PowerAware = false });

        var decision = Routed(Scorer.Route(Request(), DefaultBackends(), InMode(EfficiencyMode.Balanced), options));

        Assert.Equal(Nvidia, decision.BackendId);
    }

    /// <summary>
    /// Rule "wait budget": the NPU busy with three normal requests waiting (4 × 9.33 s ≈ 37 s of
    /// wait). Every mode that would pick it spills to a device within the priority's budget; best
    /// effort (100 s) still queues there; without a budget the mode's order stands.
    /// </summary>
    [Theory]
    [InlineData(EfficiencyMode.Efficiency, Priority.Normal, true, Igpu)]
    [InlineData(EfficiencyMode.Efficiency, Priority.Normal, false, Npu)]
    [InlineData(EfficiencyMode.Efficiency, Priority.BestEffort, true, Npu)]
    [InlineData(EfficiencyMode.Quiet, Priority.Normal, true, Igpu)]
    [InlineData(EfficiencyMode.Quiet, Priority.Normal, false, Npu)]
    [InlineData(EfficiencyMode.Balanced, Priority.Normal, true, Igpu)]
    [InlineData(EfficiencyMode.UltraEfficiency, Priority.Normal, true, Npu)] // nothing else is under 10 W
    public void Route_FrugalDeviceQueueOverWaitBudget_GoesToADeviceWithinIt(EfficiencyMode mode, Priority priority, bool budget, string expected)
    {
        var backends = With(Npu, b => b with { InFlight = 1, QueueDepthByPriority = Queue(normal: 3) });
        var options = budget ? ScoringOptions.Default : ScoringOptions.Default with { WaitBudget = null };

        var decision = Routed(Scorer.Route(Request(Hints(priority)), backends, InMode(mode), options));

        Assert.Equal(expected, decision.BackendId);
    }

    /// <summary>Rule "wait budget", when no candidate is within it: the one whose first token comes soonest, not the mode's favourite.</summary>
    [Fact]
    public void Route_EveryCandidateOverWaitBudget_SoonestFirstTokenServes()
    {
        var backends = DefaultBackends()
            .Select(b => b with { InFlight = 1, QueueDepthByPriority = b.Id == Cpu ? Queue(normal: 1) : Queue(normal: 4) })
            .ToImmutableArray();

        var decision = Routed(Scorer.Route(Request(), backends, InMode(EfficiencyMode.Efficiency), ScoringOptions.Default));

        // NVIDIA: 5 × 1.75 s ahead; the CPU: 2 × 14 s; the iGPU 5 × 4.6 s; the NPU 5 × 9.3 s.
        Assert.Equal(Nvidia, decision.BackendId);
    }

    /// <summary>
    /// A critical voice turn (first token within 500 ms) while the NVIDIA GPU runs one request.
    /// When backends preempt lower priorities for critical work, the scorer does not wait for it.
    /// </summary>
    [Theory]
    [InlineData(null, Priority.BestEffort, Igpu)]
    [InlineData(Priority.Normal, Priority.BestEffort, Nvidia)]
    [InlineData(Priority.Normal, Priority.Normal, Igpu)]
    [InlineData(Priority.High, Priority.Normal, Nvidia)]
    [InlineData(Priority.High, Priority.High, Igpu)]
    public void Route_CriticalWithPreemption_IgnoresPreemptibleWorkInFlight(Priority? preemptsBelow, Priority running, string expected)
    {
        int[] inFlight = [0, 0, 0, 0];
        inFlight[(int)running] = 1;
        var backends = With(Nvidia, b => b with { InFlight = 1, InFlightByPriority = [.. inFlight] });
        var options = ScoringOptions.Default with { CriticalPreemptsBelow = preemptsBelow };
        var hints = Hints(Priority.Critical) with { MaxLatencyMs = 500 };

        var decision = Routed(Scorer.Route(Request(hints), backends, InMode(EfficiencyMode.Performance), options));

        Assert.Equal(expected, decision.BackendId);
    }
}
