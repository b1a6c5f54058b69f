using System.Collections.Immutable;
using Router.Actors.Routing;
using static Router.Tests.Routing.RoutingFixtures;

namespace Router.Tests.Routing;

/// <summary>
/// Routing across a fleet: a laptop (this router, its four default devices) and a desktop node
/// with the same four devices one millisecond away.
/// </summary>
public sealed class ScorerFleetTests
{
    private const string Desktop = "desktop";
    private static readonly NodePowerState Mains = new(OnAcPower: true, BatteryPercent: null, Hot: false);
    private static readonly NodePowerState Battery = new(OnAcPower: false, BatteryPercent: 55, Hot: false);

    private static ImmutableArray<BackendSnapshot> Fleet(NodePowerState desktopPower, double roundTripMs = 1) =>
        DefaultBackends().AddRange(DefaultBackends().Select(b => b with
        {
            Id = Desktop + "/" + b.Id,
            Node = Desktop,
            NodePower = desktopPower,
            NetworkRoundTripMs = roundTripMs,
        }));

    private static SystemState Laptop(EfficiencyMode mode, bool onAc, double? battery) =>
        mode == EfficiencyMode.Auto ? Auto(onAc, battery) : InMode(mode) with { OnAcPower = onAc, BatteryPercent = battery };

    [Theory]
    // On battery, Efficiency and Auto take the desktop's device over the laptop's own: the same
    // energy, but from mains.
    // (Balanced is the least energy among the devices whose first token comes within the wait
    // budget of the fastest's: the NPU, here.)
    [InlineData(EfficiencyMode.Auto, false, 60.0, "desktop/ollama-npu")]
    [InlineData(EfficiencyMode.Auto, false, 35.0, "desktop/ollama-npu")]
    [InlineData(EfficiencyMode.Auto, false, 10.0, "desktop/ollama-npu")]
    [InlineData(EfficiencyMode.Efficiency, false, 80.0, "desktop/ollama-npu")]
    [InlineData(EfficiencyMode.Balanced, false, 80.0, "desktop/ollama-npu")]
    // Performance ignores power: the laptop's own GPU, without the network's millisecond.
    [InlineData(EfficiencyMode.Performance, false, 80.0, Nvidia)]
    // On mains both are equal but for the round trip: the laptop routes as it would alone.
    [InlineData(EfficiencyMode.Auto, true, null, Nvidia)]
    [InlineData(EfficiencyMode.Balanced, true, null, Npu)]
    [InlineData(EfficiencyMode.Efficiency, true, null, Npu)]
    public void Route_LaptopAndMainsDesktop_BatteryEnergyCountsDearer(EfficiencyMode mode, bool onAc, double? battery, string expected)
    {
        var decision = Routed(Scorer.Route(Request(), Fleet(Mains), Laptop(mode, onAc, battery), ScoringOptions.Default));

        Assert.Equal(expected, decision.BackendId);
    }

    [Fact]
    public void Route_EveryCandidateOnBattery_WeighsAsOneMachine()
    {
        var decision = Routed(Scorer.Route(Request(), Fleet(Battery), Laptop(EfficiencyMode.Efficiency, onAc: false, 40), ScoringOptions.Default));

        Assert.Equal(Npu, decision.BackendId);
    }

    [Fact]
    public void Route_BatteryWeightOne_KeepsTheLaptopsOwnDevice()
    {
        var options = ScoringOptions.Default with { BatteryEnergyWeight = 1 };

        var decision = Routed(Scorer.Route(Request(), Fleet(Mains), Laptop(EfficiencyMode.Efficiency, onAc: false, 40), options));

        Assert.Equal(Npu, decision.BackendId);
    }

    [Fact]
    public void Route_RemoteBackend_RoundTripIsAddedToItsLatency()
    {
        var hints = RoutingHints.Default with { Target = "desktop/ollama-nvidia" };

        var decision = Routed(Scorer.Route(Request(hints), Fleet(Mains, roundTripMs: 40), InMode(EfficiencyMode.Balanced), ScoringOptions.Default));

        Assert.Equal(190, decision.Estimate.LatencyMs, precision: 6);
    }

    [Fact]
    public void Route_MaxLatency_ExcludesRemoteDeviceThatOnlyTheRoundTripMakesTooSlow()
    {
        var hints = RoutingHints.Default with { MaxLatencyMs = 170, Target = "nvidia" };

        var decision = Routed(Scorer.Route(Request(hints), Fleet(Mains, roundTripMs: 40), InMode(EfficiencyMode.Balanced), ScoringOptions.Default));

        Assert.Equal(Nvidia, decision.BackendId);
        Assert.Empty(decision.Alternatives);
    }

    [Theory]
    [InlineData("desktop/ollama-npu", "desktop/ollama-npu")]
    [InlineData("DESKTOP/ollama-npu", "desktop/ollama-npu")]
    [InlineData("ollama-npu", Npu)]
    public void Route_TargetNodeSlashBackend_NamesOneDeviceOfOneNode(string target, string expected)
    {
        var decision = Routed(Scorer.Route(Request(RoutingHints.Default with { Target = target }), Fleet(Mains), InMode(EfficiencyMode.Balanced), ScoringOptions.Default));

        Assert.Equal(expected, decision.BackendId);
        Assert.Equal(RouteReasons.ExplicitTarget, decision.Reason);
    }

    [Fact]
    public void Route_TargetIdOnlyAnotherNodeHas_FindsIt()
    {
        var backends = DefaultBackends().Add(Backend("big-gpu", "nvidia", 300, 80) with { Id = "desktop/big-gpu", Node = Desktop, NodePower = Mains });

        var decision = Routed(Scorer.Route(Request(RoutingHints.Default with { Target = "big-gpu" }), backends, InMode(EfficiencyMode.Balanced), ScoringOptions.Default));

        Assert.Equal("desktop/big-gpu", decision.BackendId);
    }

    [Fact]
    public void Route_ForwardedRequest_NeverLeavesThisNode()
    {
        var local = RoutingHints.Default with { LocalOnly = true };
        var backends = Fleet(Mains);

        var decision = Routed(Scorer.Route(Request(local), backends, Laptop(EfficiencyMode.Efficiency, onAc: false, 40), ScoringOptions.Default));
        var remoteTarget = Failed(Scorer.Route(Request(local with { Target = "desktop/ollama-npu" }), backends, InMode(EfficiencyMode.Balanced), ScoringOptions.Default));

        Assert.Null(backends.Single(b => b.Id == decision.BackendId).Node);
        Assert.All(decision.Alternatives, id => Assert.DoesNotContain('/', id));
        Assert.Equal(RouteFailureKind.UnknownTarget, remoteTarget.Kind);
    }

    [Fact]
    public void Route_ForwardedRequestToNodeWithoutBackends_SaysWhy()
    {
        var remoteOnly = Fleet(Mains).Where(b => b.Node is not null).ToImmutableArray();

        var failure = Failed(Scorer.Route(Request(RoutingHints.Default with { LocalOnly = true }), remoteOnly, InMode(EfficiencyMode.Balanced), ScoringOptions.Default));

        Assert.Equal(RouteFailureKind.NoHealthyBackend, failure.Kind);
        Assert.Contains("no backend of its own", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Route_RemoteDeviceAboveItsLimit_IsExcludedByItsNodesReading()
    {
        var backends = Fleet(Mains).Select(b => b.Id == "desktop/ollama-nvidia" ? b with { Thermal = new DeviceThermal(99) } : b).ToImmutableArray();
        var hints = RoutingHints.Default with { Target = "desktop/ollama-nvidia" };

        var failure = Failed(Scorer.Route(Request(hints), backends, InMode(EfficiencyMode.Balanced), ScoringOptions.Default));

        Assert.Equal(RouteFailureKind.TooHot, failure.Kind);
    }
}
