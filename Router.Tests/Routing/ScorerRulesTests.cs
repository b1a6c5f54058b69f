using System.Collections.Immutable;
using Router.Actors.Routing;
using static Router.Tests.Routing.RoutingFixtures;

namespace Router.Tests.Routing;

/// <summary>The routing rules of issue 3, on the four default backends.</summary>
public sealed class ScorerRulesTests
{
    [Theory]
    [InlineData(true, null, Nvidia, EfficiencyMode.Performance)]
    [InlineData(true, 15.0, Nvidia, EfficiencyMode.Performance)]
    [InlineData(false, 90.0, Npu, EfficiencyMode.Balanced)]
    [InlineData(false, 50.0, Npu, EfficiencyMode.Balanced)]
    [InlineData(false, 49.0, Npu, EfficiencyMode.Efficiency)]
    [InlineData(false, 35.0, Npu, EfficiencyMode.Efficiency)]
    [InlineData(false, 20.0, Npu, EfficiencyMode.Efficiency)]
    [InlineData(false, 19.0, Npu, EfficiencyMode.UltraEfficiency)]
    [InlineData(false, 5.0, Npu, EfficiencyMode.UltraEfficiency)]
    public void Route_AutoFollowsPowerSource_PicksDeviceForBattery(bool onAc, double? battery, string expected, EfficiencyMode effective)
    {
        var state = Auto(onAc, battery);

        var decision = Routed(Scorer.Route(Request(), DefaultBackends(), state, ScoringOptions.Default));

        Assert.Equal(effective, decision.EffectiveMode);
        Assert.Equal(expected, decision.BackendId);
    }

    [Theory]
    [InlineData(19.9)]
    [InlineData(12.0)]
    [InlineData(3.0)]
    public void Route_AutoBelow20PercentWithNpuDown_FailsRatherThanUsingHighPower(double battery)
    {
        var backends = With(Npu, b => b with { Health = BackendHealth.Unhealthy });

        var failure = Failed(Scorer.Route(Request(), backends, Auto(onAc: false, battery), ScoringOptions.Default));

        Assert.Equal(RouteFailureKind.ExcludedByMode, failure.Kind);
        Assert.Contains("under 10 W", failure.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(EfficiencyMode.Performance, null, Nvidia)]
    [InlineData(EfficiencyMode.Balanced, null, Nvidia)]
    [InlineData(EfficiencyMode.Balanced, Nvidia, Igpu)]
    [InlineData(EfficiencyMode.Balanced, Igpu, Nvidia)]
    // Latency-critical overrides the mode's preference, not its caps: Quiet never runs a 55 W
    // device and Ultra Efficiency nothing at 10 W or more.
    [InlineData(EfficiencyMode.Quiet, null, Igpu)]
    [InlineData(EfficiencyMode.UltraEfficiency, null, Npu)]
    public void Route_LatencyCritical_PicksFastestHealthyBackend(EfficiencyMode mode, string? unhealthy, string expected)
    {
        var backends = unhealthy is null ? DefaultBackends() : With(unhealthy, b => b with { Health = BackendHealth.Unhealthy });
        var hints = RoutingHints.Default with { LatencyCritical = true };

        var decision = Routed(Scorer.Route(Request(hints), backends, InMode(mode), ScoringOptions.Default));

        Assert.Equal(expected, decision.BackendId);
        Assert.Equal(mode == EfficiencyMode.UltraEfficiency ? RouteReasons.OnlyCandidate : RouteReasons.LatencyCritical, decision.Reason);
    }

    [Theory]
    [InlineData(EfficiencyMode.Performance, null, Npu)]
    [InlineData(EfficiencyMode.Balanced, null, Npu)]
    [InlineData(EfficiencyMode.Performance, Npu, Igpu)]
    public void Route_PreferPowerEfficiency_PicksLowestPowerBackend(EfficiencyMode mode, string? unhealthy, string expected)
    {
        var backends = unhealthy is null ? DefaultBackends() : With(unhealthy, b => b with { Health = BackendHealth.Unhealthy });
        var hints = RoutingHints.Default with { PreferPowerEfficiency = true };

        var decision = Routed(Scorer.Route(Request(hints), backends, InMode(mode), ScoringOptions.Default));

        Assert.Equal(expected, decision.BackendId);
        Assert.Equal(RouteReasons.PowerEfficient, decision.Reason);
    }

    [Theory]
    [InlineData(EfficiencyMode.Performance, Igpu, new[] { Npu })]
    [InlineData(EfficiencyMode.Efficiency, Npu, new[] { Igpu })]
    [InlineData(EfficiencyMode.Balanced, Npu, new[] { Igpu })]
    public void Route_MaxPower15W_ExcludesNvidiaAndCpu(EfficiencyMode mode, string expected, string[] alternatives)
    {
        var hints = RoutingHints.Default with { MaxPowerWatts = 15 };

        var decision = Routed(Scorer.Route(Request(hints), DefaultBackends(), InMode(mode), ScoringOptions.Default));

        Assert.Equal(expected, decision.BackendId);
        Assert.Equal(alternatives, decision.Alternatives);
    }

    [Theory]
    [InlineData(EfficiencyMode.Performance, Nvidia, new[] { Igpu })]
    [InlineData(EfficiencyMode.Efficiency, Igpu, new[] { Nvidia })]
    [InlineData(EfficiencyMode.Quiet, Igpu, new string[0])]
    public void Route_MaxLatency500Ms_ExcludesNpuAndCpu(EfficiencyMode mode, string expected, string[] alternatives)
    {
        var hints = RoutingHints.Default with { MaxLatencyMs = 500 };

        var decision = Routed(Scorer.Route(Request(hints), DefaultBackends(), InMode(mode), ScoringOptions.Default));

        Assert.Equal(expected, decision.BackendId);
        Assert.Equal(alternatives, decision.Alternatives);
    }

    [Theory]
    [InlineData(EfficiencyMode.Performance)]
    [InlineData(EfficiencyMode.UltraEfficiency)]
    [InlineData(EfficiencyMode.Quiet)]
    public void Route_ModelHeldByOneBackend_GoesThereOnly(EfficiencyMode mode)
    {
        var backends = DefaultBackends().Select(b => b.Id == Npu ? b with { Models = b.Models.Add("phi3") } : b).ToArray();

        var decision = Routed(Scorer.Route(Request(model: "phi3"), backends, InMode(mode), ScoringOptions.Default));

        Assert.Equal(Npu, decision.BackendId);
        Assert.Equal(RouteReasons.OnlyCandidate, decision.Reason);
        Assert.Empty(decision.Alternatives);
    }

    [Theory]
    [InlineData(BackendHealth.Unhealthy)]
    [InlineData(BackendHealth.Ejected)]
    public void Route_ModelHeldOnlyByUnhealthyBackend_FailsModelNotAvailable(BackendHealth health)
    {
        var backends = DefaultBackends().Select(b => b.Id == Cpu ? b with { Models = b.Models.Add("codellama"), Health = health } : b).ToArray();

        var failure = Failed(Scorer.Route(Request(model: "codellama"), backends, InMode(EfficiencyMode.Balanced), ScoringOptions.Default));

        Assert.Equal(RouteFailureKind.ModelNotAvailable, failure.Kind);
        Assert.Equal("model 'codellama' is not available on any healthy backend", failure.Message);
    }

    /// <summary>Ollama reads a name without a tag as ':latest'; the reverse is not true.</summary>
    [Theory]
    [InlineData("llama3.2", "llama3.2:latest", true)]
    [InlineData("llama3.2:latest", "llama3.2:latest", true)]
    [InlineData("llama3.2:latest", "llama3.2", false)]
    [InlineData("llama3.2:1b", "llama3.2:latest", false)]
    public void Route_ModelTag_MatchesLikeOllama(string asked, string held, bool routed)
    {
        var backends = DefaultBackends().Select(b => b with { Models = [held] }).ToArray();

        var outcome = Scorer.Route(Request(model: asked), backends, InMode(EfficiencyMode.Performance), ScoringOptions.Default);

        Assert.Equal(routed, outcome.IsRouted);
    }

    /// <summary>
    /// The NVIDIA GPU is busy with one request and five best-effort ones wait. A normal request's
    /// expected latency counts only the one in flight (1.75 s, within its 2 s wait budget), so it
    /// still goes there; a best-effort one counts all six and goes to the iGPU; for critical and
    /// high work 1.75 s is over their wait budget (0.5 s, 1 s), so the idle iGPU serves them.
    /// </summary>
    [Theory]
    [InlineData(Priority.Critical, Igpu, 350)]
    [InlineData(Priority.High, Igpu, 350)]
    [InlineData(Priority.Normal, Nvidia, 150 + 1750)]
    [InlineData(Priority.BestEffort, Igpu, 350)]
    public void Route_BestEffortQueuedAhead_IgnoredByHigherPriorities(Priority priority, string expected, double latencyMs)
    {
        var backends = With(Nvidia, b => b with { InFlight = 1, QueueDepthByPriority = Queue(bestEffort: 5) });

        var decision = Routed(Scorer.Route(Request(Hints(priority)), backends, InMode(EfficiencyMode.Performance), ScoringOptions.Default));

        Assert.Equal(expected, decision.BackendId);
        Assert.Equal(latencyMs, decision.Estimate.LatencyMs, 3);
    }

    [Theory]
    [InlineData(Priority.Critical, 0, 1)]
    [InlineData(Priority.Critical, 2, 3)]
    [InlineData(Priority.High, 2, 5)]
    [InlineData(Priority.BestEffort, 0, 8)]
    public void QueueAhead_CountsSameOrHigherPriorityAndBusySlot(Priority priority, int criticalWaiting, int expected)
    {
        var backend = Backend(Nvidia, "nvidia", 55, 150) with { InFlight = 1, QueueDepthByPriority = Queue(3, 0, 2, criticalWaiting) };
        if (priority == Priority.BestEffort)
        {
            backend = backend with { QueueDepthByPriority = Queue(3, 2, 2, 0) };
        }

        Assert.Equal(expected, Scorer.QueueAhead(backend, priority));
    }

    [Theory]
    [InlineData(EfficiencyMode.Performance, Nvidia, RouteReasons.ModePerformance)]
    [InlineData(EfficiencyMode.Balanced, Npu, RouteReasons.ModeBalanced)]
    [InlineData(EfficiencyMode.Efficiency, Npu, RouteReasons.ModeEfficiency)]
    [InlineData(EfficiencyMode.Quiet, Npu, RouteReasons.ModeQuiet)]
    [InlineData(EfficiencyMode.UltraEfficiency, Npu, RouteReasons.OnlyCandidate)]
    public void Route_UserSelectedMode_PicksModesDevice(EfficiencyMode mode, string expected, string reason)
    {
        var decision = Routed(Scorer.Route(Request(), DefaultBackends(), InMode(mode), ScoringOptions.Default));

        Assert.Equal(expected, decision.BackendId);
        Assert.Equal(reason, decision.Reason);
        Assert.Equal(mode, decision.EffectiveMode);
    }

    /// <summary>
    /// Rule "least energy within slack" (Balanced): the least energy among the devices whose first
    /// token comes within the priority's wait budget of the fastest (NVIDIA, 150 ms, idle). Critical
    /// (0.5 s): the iGPU (350 ms) but not the NPU (800 ms); high (1 s) and below: the NPU. With
    /// power-aware off, Balanced ignores energy: the fastest completion.
    /// </summary>
    [Theory]
    [InlineData(Priority.Critical, true, Igpu)]
    [InlineData(Priority.High, true, Npu)]
    [InlineData(Priority.Normal, true, Npu)]
    [InlineData(Priority.BestEffort, true, Npu)]
    [InlineData(Priority.Normal, false, Nvidia)]
    public void Route_Balanced_LeastEnergyWithinWaitBudgetOfFastest(Priority priority, bool powerAware, string expected)
    {
        var options = ScoringOptions.FromConfig(new Router.Actors.Config.RoutingConfig { PowerAware = powerAware });

        var decision = Routed(Scorer.Route(Request(Hints(priority)), DefaultBackends(), InMode(EfficiencyMode.Balanced), options));

        Assert.Equal(expected, decision.BackendId);
    }

    /// <summary>
    /// Rule "least energy within slack" for latency-critical requests in Efficiency: the NPU when its
    /// first token is within the wait budget of the fastest, else the next most frugal within it.
    /// Other modes keep the fastest.
    /// </summary>
    [Theory]
    [InlineData(EfficiencyMode.Efficiency, Priority.Normal, Npu)]
    [InlineData(EfficiencyMode.Efficiency, Priority.Critical, Igpu)]
    [InlineData(EfficiencyMode.Balanced, Priority.Critical, Nvidia)]
    [InlineData(EfficiencyMode.Performance, Priority.Normal, Nvidia)]
    public void Route_LatencyCriticalInEfficiency_LeastEnergyWithinWaitBudgetOfFastest(EfficiencyMode mode, Priority priority, string expected)
    {
        var hints = Hints(priority) with { LatencyCritical = true };

        var decision = Routed(Scorer.Route(Request(hints), DefaultBackends(), InMode(mode), ScoringOptions.Default));

        Assert.Equal(expected, decision.BackendId);
    }

    /// <summary>Rule "power-efficient by energy": the CPU draws less than the NVIDIA GPU but spends four times its energy on an answer.</summary>
    [Fact]
    public void Route_PowerEfficientWithNpuAndIgpuDown_LeastEnergyNotLeastDraw()
    {
        var backends = DefaultBackends()
            .Select(b => b.Id is Npu or Igpu ? b with { Health = BackendHealth.Unhealthy } : b)
            .ToImmutableArray();
        var hints = RoutingHints.Default with { PreferPowerEfficiency = true };

        var decision = Routed(Scorer.Route(Request(hints), backends, InMode(EfficiencyMode.Balanced), ScoringOptions.Default));

        // NVIDIA: 55 W × 1.75 s = 27 mWh; the CPU: 28 W × 14 s = 109 mWh.
        Assert.Equal(Nvidia, decision.BackendId);
    }
}
