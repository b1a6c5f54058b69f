using System.Collections.Immutable;
using Router.Actors.Routing;
using static Router.Tests.Routing.RoutingFixtures;

namespace Router.Tests.Routing;

/// <summary>Explicit targets, hard filters and the failure each one gives when it removes the last candidate.</summary>
public sealed class ScorerFilterTests
{
    [Theory]
    [InlineData("ollama-npu", Npu)]
    [InlineData("OLLAMA-NVIDIA", Nvidia)]
    [InlineData("igpu", Igpu)]
    [InlineData("cpu", Cpu)]
    [InlineData(" nvidia ", Nvidia)]
    public void Route_ExplicitTarget_GoesToNamedBackendOrHardware(string target, string expected)
    {
        var hints = RoutingHints.Default with { Target = target };

        var decision = Routed(Scorer.Route(Request(hints), DefaultBackends(), InMode(EfficiencyMode.Balanced), ScoringOptions.Default));

        Assert.Equal(expected, decision.BackendId);
        Assert.Equal(RouteReasons.ExplicitTarget, decision.Reason);
        Assert.Empty(decision.Alternatives);
    }

    /// <summary>The caller named the device, so the mode's caps give way; the request's own budget and health do not.</summary>
    [Theory]
    [InlineData(EfficiencyMode.UltraEfficiency)]
    [InlineData(EfficiencyMode.Quiet)]
    public void Route_ExplicitTargetOutsideModeCap_StillServed(EfficiencyMode mode)
    {
        var hints = RoutingHints.Default with { Target = "nvidia" };

        var decision = Routed(Scorer.Route(Request(hints), DefaultBackends(), InMode(mode), ScoringOptions.Default));

        Assert.Equal(Nvidia, decision.BackendId);
    }

    [Fact]
    public void Route_TwoBackendsOfTargetHardware_ScoresBetweenThemOnly()
    {
        var backends = DefaultBackends().Add(Backend("ollama-cpu-2", "cpu", 20, 1000));
        var hints = RoutingHints.Default with { Target = "cpu" };

        var decision = Routed(Scorer.Route(Request(hints), backends, InMode(EfficiencyMode.Performance), ScoringOptions.Default));

        Assert.Equal("ollama-cpu-2", decision.BackendId);
        Assert.Equal(new[] { Cpu }, decision.Alternatives);
        Assert.Equal(RouteReasons.ExplicitTarget, decision.Reason);
    }

    [Theory]
    [InlineData("tpu")]
    [InlineData("ollama-gpu")]
    public void Route_UnknownTarget_FailsListingIdsAndHardware(string target)
    {
        var hints = RoutingHints.Default with { Target = target };

        var failure = Failed(Scorer.Route(Request(hints), DefaultBackends(), InMode(EfficiencyMode.Balanced), ScoringOptions.Default));

        Assert.Equal(RouteFailureKind.UnknownTarget, failure.Kind);
        Assert.Equal(
            $"unknown target '{target}': known backends are ollama-npu, ollama-igpu, ollama-nvidia, ollama-cpu; hardware kinds are npu, igpu, nvidia, cpu",
            failure.Message);
    }

    public static TheoryData<string, Func<BackendSnapshot, BackendSnapshot>, RoutingHints, RouteFailureKind, string> TargetCannotServe => new()
    {
        { Nvidia, b => b with { Health = BackendHealth.Unhealthy, StatusMessage = "connection refused" }, RoutingHints.Default,
            RouteFailureKind.NoHealthyBackend, "no healthy backend: ollama-nvidia is unhealthy (connection refused)" },
        { Nvidia, b => b with { Health = BackendHealth.Ejected }, RoutingHints.Default,
            RouteFailureKind.NoHealthyBackend, "no healthy backend: ollama-nvidia is ejected" },
        { Nvidia, b => b with { Models = ["phi3"] }, RoutingHints.Default,
            RouteFailureKind.ModelNotAvailable, "model 'llama3.2' is not available on backend 'ollama-nvidia'" },
        { Nvidia, b => b, RoutingHints.Default with { MaxPowerWatts = 15 },
            RouteFailureKind.PowerBudgetExceeded, "backend 'ollama-nvidia' exceeds the power budget of 15 W (lowest: ollama-nvidia at 55 W)" },
        { Nvidia, b => b with { Enabled = false }, RoutingHints.Default,
            RouteFailureKind.NoHealthyBackend, "backend 'ollama-nvidia' is disabled in the configuration" },
    };

    [Theory]
    [MemberData(nameof(TargetCannotServe))]
    public void Route_TargetThatCannotServe_FailsWithReasonInsteadOfRerouting(
        string target, Func<BackendSnapshot, BackendSnapshot> change, RoutingHints hints, RouteFailureKind kind, string message)
    {
        var backends = With(target, change);

        var failure = Failed(Scorer.Route(Request(hints with { Target = target }), backends, InMode(EfficiencyMode.Balanced), ScoringOptions.Default));

        Assert.Equal(kind, failure.Kind);
        Assert.Equal(message, failure.Message);
    }

    public static TheoryData<string, Func<BackendSnapshot, BackendSnapshot>, RoutingHints, EfficiencyMode, RouteFailureKind, string> NothingCanServe => new()
    {
        { "all unhealthy", b => b with { Health = BackendHealth.Unhealthy }, RoutingHints.Default, EfficiencyMode.Balanced,
            RouteFailureKind.NoHealthyBackend, "no healthy backend: ollama-npu is unhealthy; ollama-igpu is unhealthy; ollama-nvidia is unhealthy; ollama-cpu is unhealthy" },
        { "model nowhere", b => b, RoutingHints.Default, EfficiencyMode.Balanced,
            RouteFailureKind.ModelNotAvailable, "model 'mistral' is not available on any healthy backend" },
        { "2 W budget", b => b, RoutingHints.Default with { MaxPowerWatts = 2 }, EfficiencyMode.Balanced,
            RouteFailureKind.PowerBudgetExceeded, "every candidate backend exceeds the power budget of 2 W (lowest: ollama-npu at 3 W)" },
        { "100 ms budget", b => b, RoutingHints.Default with { MaxLatencyMs = 100 }, EfficiencyMode.Balanced,
            RouteFailureKind.LatencyBudgetExceeded, "every candidate backend exceeds the latency budget of 100 ms (fastest: ollama-nvidia at 150 ms expected)" },
        { "quiet, 10 W budget, npu hot", b => b, RoutingHints.Default with { MaxPowerWatts = 10 }, EfficiencyMode.Quiet,
            RouteFailureKind.ExcludedByMode, "quiet mode avoids backends above 15 W and hot devices, and no other backend can take this request" },
        { "all queues full", b => b with { InFlight = 1, QueueDepthByPriority = Queue(normal: 64) }, RoutingHints.Default, EfficiencyMode.Balanced,
            RouteFailureKind.QueueFull, "the queue for normal requests is full on every candidate backend" },
    };

    [Theory]
    [MemberData(nameof(NothingCanServe))]
    public void Route_LastCandidatesRemoved_FailureSaysWhy(
        string scenario, Func<BackendSnapshot, BackendSnapshot> change, RoutingHints hints, EfficiencyMode mode, RouteFailureKind kind, string message)
    {
        var backends = DefaultBackends().Select(change).ToArray();
        var state = InMode(mode) with { ThermalByBackend = ImmutableDictionary<string, DeviceThermal>.Empty.Add(Npu, new DeviceThermal(85)) };
        string model = scenario == "model nowhere" ? "mistral" : Model;

        var failure = Failed(Scorer.Route(Request(hints, model), backends, state, ScoringOptions.Default));

        Assert.Equal(kind, failure.Kind);
        Assert.Equal(message, failure.Message);
    }

    [Fact]
    public void Route_AllQueuesFull_RetryAfterIsOneServiceTime()
    {
        var backends = DefaultBackends().Select(b => b with { InFlight = 1, QueueDepthByPriority = Queue(normal: 64) }).ToArray();

        var failure = Failed(Scorer.Route(Request(), backends, InMode(EfficiencyMode.Balanced), ScoringOptions.Default));

        // The NVIDIA GPU frees a queue place soonest: 150 ms + 128 tokens at 80 tok/s = 1.75 s.
        Assert.Equal(TimeSpan.FromSeconds(2), failure.RetryAfter);
    }

    [Theory]
    [InlineData(Priority.BestEffort, false)]
    [InlineData(Priority.Normal, true)]
    [InlineData(Priority.Critical, true)]
    public void Route_BestEffortQueueFull_OnlyBestEffortRefused(Priority priority, bool routed)
    {
        var backends = DefaultBackends().Select(b => b with { InFlight = 1, QueueDepthByPriority = Queue(bestEffort: 16), QueueLimitByPriority = [16, 64, 64, 64] }).ToArray();

        var outcome = Scorer.Route(Request(Hints(priority)), backends, InMode(EfficiencyMode.Balanced), ScoringOptions.Default);

        Assert.Equal(routed, outcome.IsRouted);
        Assert.Equal(routed ? null : RouteFailureKind.QueueFull, outcome.Failure?.Kind);
    }

    [Theory]
    [InlineData(EfficiencyMode.Performance, 96.0, Igpu)]
    [InlineData(EfficiencyMode.Performance, 94.0, Nvidia)]
    [InlineData(EfficiencyMode.Performance, null, Nvidia)]
    public void Route_NvidiaTemperature_ExcludedOnlyAboveLimit(EfficiencyMode mode, double? temperature, string expected)
    {
        var state = InMode(mode) with { ThermalByBackend = ImmutableDictionary<string, DeviceThermal>.Empty.Add(Nvidia, new DeviceThermal(temperature)) };

        var decision = Routed(Scorer.Route(Request(), DefaultBackends(), state, ScoringOptions.Default));

        Assert.Equal(expected, decision.BackendId);
    }

    /// <summary>
    /// A hot NPU is penalised in Balanced (its energy counts up to twice at the limit) and gives way
    /// to the iGPU; Quiet excludes hot devices outright.
    /// </summary>
    [Theory]
    [InlineData(EfficiencyMode.Balanced, Npu, 70.0, Npu)]
    [InlineData(EfficiencyMode.Balanced, Npu, 95.0, Igpu)]
    [InlineData(EfficiencyMode.Quiet, Npu, 79.0, Npu)]
    [InlineData(EfficiencyMode.Quiet, Npu, 80.0, Igpu)]
    public void Route_HotDevice_PenalisedOrAvoided(EfficiencyMode mode, string hot, double temperature, string expected)
    {
        var state = InMode(mode) with { ThermalByBackend = ImmutableDictionary<string, DeviceThermal>.Empty.Add(hot, new DeviceThermal(temperature)) };

        var decision = Routed(Scorer.Route(Request(), DefaultBackends(), state, ScoringOptions.Default));

        Assert.Equal(expected, decision.BackendId);
    }

    [Fact]
    public void Route_AllTooHot_FailsTooHotWithRetryAfter()
    {
        var hot = new DeviceThermal(99);
        var state = InMode(EfficiencyMode.Balanced) with
        {
            ThermalByBackend = ImmutableDictionary<string, DeviceThermal>.Empty.Add(Npu, hot).Add(Igpu, hot).Add(Nvidia, hot).Add(Cpu, hot),
        };

        var failure = Failed(Scorer.Route(Request(), DefaultBackends(), state, ScoringOptions.Default));

        Assert.Equal(RouteFailureKind.TooHot, failure.Kind);
        Assert.NotNull(failure.RetryAfter);
    }

    /// <summary>Unknown health (no probe yet) is a last resort: used only when no Healthy or Degraded backend passes the filters.</summary>
    [Theory]
    [InlineData(new[] { Npu, Igpu, Nvidia, Cpu }, Nvidia)]
    [InlineData(new[] { Nvidia }, Igpu)]
    [InlineData(new[] { Npu, Igpu, Cpu }, Nvidia)]
    public void Route_UnknownHealth_UsedOnlyAsLastResort(string[] unknown, string expected)
    {
        var backends = DefaultBackends().Select(b => unknown.Contains(b.Id) ? b with { Health = BackendHealth.Unknown } : b).ToArray();

        var decision = Routed(Scorer.Route(Request(), backends, InMode(EfficiencyMode.Performance), ScoringOptions.Default));

        Assert.Equal(expected, decision.BackendId);
    }

    [Fact]
    public void Route_ModelOnlyOnUnknownBackendWithUnreadList_ServedThere()
    {
        var backends = DefaultBackends().Select(b => b.Id == Cpu ? b with { Health = BackendHealth.Unknown, ModelsKnown = false, Models = [] } : b).ToArray();

        var decision = Routed(Scorer.Route(Request(model: "mistral"), backends, InMode(EfficiencyMode.Performance), ScoringOptions.Default));

        Assert.Equal(Cpu, decision.BackendId);
    }

    [Theory]
    [InlineData(new[] { Nvidia }, Igpu, new[] { Npu, Cpu })]
    [InlineData(new[] { Nvidia, Igpu }, Npu, new[] { Cpu })]
    public void Route_Fallback_SkipsTriedBackendsAndRecordsThem(string[] tried, string expected, string[] alternatives)
    {
        var request = Request() with { ExcludedBackendIds = [.. tried] };

        var decision = Routed(Scorer.Route(request, DefaultBackends(), InMode(EfficiencyMode.Performance), ScoringOptions.Default));

        Assert.Equal(expected, decision.BackendId);
        Assert.Equal(RouteReasons.Fallback, decision.Reason);
        Assert.Equal(tried, decision.Attempted);
        Assert.Equal(alternatives, decision.Alternatives);
    }

    [Fact]
    public void Route_EveryBackendTried_FailsNamingThem()
    {
        var request = Request() with { ExcludedBackendIds = [Npu, Igpu, Nvidia, Cpu] };

        var failure = Failed(Scorer.Route(request, DefaultBackends(), InMode(EfficiencyMode.Performance), ScoringOptions.Default));

        Assert.Equal(RouteFailureKind.NoHealthyBackend, failure.Kind);
        Assert.Equal("every candidate backend has already been tried: ollama-npu, ollama-igpu, ollama-nvidia, ollama-cpu", failure.Message);
    }

    [Theory]
    [InlineData("ollama", Nvidia)]
    [InlineData("openai", "vllm")]
    public void Route_AcceptableTypes_OnlyThoseTypesServe(string type, string expected)
    {
        var backends = DefaultBackends().Add(Backend("vllm", "nvidia", 60, 200) with { Type = "openai" });
        var request = Request() with { AcceptableTypes = [type] };

        var decision = Routed(Scorer.Route(request, backends, InMode(EfficiencyMode.Performance), ScoringOptions.Default));

        Assert.Equal(expected, decision.BackendId);
    }

    [Fact]
    public void Route_NoBackendOfAcceptableType_FailsSayingWhichType()
    {
        var request = Request() with { AcceptableTypes = ["openai"] };

        var failure = Failed(Scorer.Route(request, DefaultBackends(), InMode(EfficiencyMode.Performance), ScoringOptions.Default));

        Assert.Equal(RouteFailureKind.NoHealthyBackend, failure.Kind);
        Assert.Equal("no enabled backend of type openai can serve this call", failure.Message);
    }
}
