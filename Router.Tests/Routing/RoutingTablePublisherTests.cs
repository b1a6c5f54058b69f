using System.Collections.Immutable;
using Akka.Actor;
using Router.Actors.Routing;
using Router.Tests.TestKit;

namespace Router.Tests.Routing;

/// <summary>
/// The routing-table publisher: backend snapshots and system state published on the event stream
/// reach the table that requests score against inline.
/// </summary>
public sealed class RoutingTablePublisherTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan Wait = AkkaTestConfig.Patience;
    private readonly RoutingTable _table;
    private readonly IActorRef _publisher;

    public RoutingTablePublisherTests()
        : base(AkkaTestConfig.RealTime, nameof(RoutingTablePublisherTests))
    {
        var state = SystemState.Default with { Mode = EfficiencyMode.Performance, EffectiveMode = EfficiencyMode.Performance };
        _table = new RoutingTable(Fleet, state);
        _publisher = Sys.ActorOf(Props.Create(() => new RoutingTablePublisher(Fleet, state, _table)), RoutingTablePublisher.Name);
        RoutingTablePublisher.Subscribe(Sys, _publisher);
    }

    private static BackendSnapshot Backend(string id, string hardware, double watts, double latencyMs) => new()
    {
        Id = id,
        Hardware = hardware,
        Health = BackendHealth.Healthy,
        PowerWatts = watts,
        AvgLatencyMs = latencyMs,
        Models = ["llama3.2:1b"],
        ModelsKnown = true,
        Version = 1,
    };

    private static readonly ImmutableArray<BackendSnapshot> Fleet =
    [
        Backend("ollama-npu", "npu", 3, 800),
        Backend("ollama-igpu", "igpu", 12, 350),
        Backend("ollama-nvidia", "nvidia", 55, 150),
        Backend("ollama-cpu", "cpu", 28, 1200),
    ];

    private RouteOutcome Route() => _table.Route(new RouteRequest("llama3.2:1b", RoutingHints.Default), ScoringOptions.Default);

    /// <summary>Publishes <paramref name="evt"/> and waits until requests route as expected.</summary>
    private async Task<RouteOutcome> PublishUntilAsync(object evt, Func<RouteOutcome, bool> condition)
    {
        Sys.EventStream.Publish(evt);
        RouteOutcome outcome = Route();
        await AwaitConditionAsync(() => Task.FromResult(condition(outcome = Route())), Wait, TimeSpan.FromMilliseconds(5));
        return outcome;
    }

    [Fact]
    public void Route_PerformanceMode_PicksTheNvidiaGpu()
    {
        var outcome = Route();

        Assert.Equal("ollama-nvidia", outcome.Decision!.BackendId);
        Assert.Equal(3, outcome.Decision.Alternatives.Length);
    }

    [Fact]
    public async Task Route_AfterASnapshotMarksNvidiaUnhealthy_RoutesElsewhere()
    {
        var outcome = await PublishUntilAsync(Fleet[2] with { Health = BackendHealth.Unhealthy, Version = 2 }, o => o.Decision?.BackendId != "ollama-nvidia");

        Assert.Equal("ollama-igpu", outcome.Decision!.BackendId);
        Assert.DoesNotContain("ollama-nvidia", outcome.Decision.Alternatives);
    }

    [Fact]
    public async Task Route_StaleSnapshotArrivesLate_IsIgnored()
    {
        await PublishUntilAsync(Fleet[2] with { Health = BackendHealth.Unhealthy, Version = 5 }, o => o.Decision?.BackendId != "ollama-nvidia");

        Sys.EventStream.Publish(Fleet[2] with { Health = BackendHealth.Healthy, Version = 4 });
        // Asked after the stale snapshot was published, so answered after it was handled.
        var view = await _publisher.Ask<RoutingView>(GetRoutingView.Instance, Wait);

        Assert.Equal(BackendHealth.Unhealthy, view.Backends.Single(b => b.Id == "ollama-nvidia").Health);
        Assert.NotEqual("ollama-nvidia", Route().Decision!.BackendId);
    }

    [Fact]
    public async Task Route_AfterSystemStateSwitchesToUltraEfficiency_OnlyTheNpuServes()
    {
        var ultra = SystemState.Default with { Mode = EfficiencyMode.UltraEfficiency, EffectiveMode = EfficiencyMode.UltraEfficiency };

        var outcome = await PublishUntilAsync(ultra, o => o.Decision?.BackendId == "ollama-npu");

        Assert.Empty(outcome.Decision!.Alternatives);
    }

    [Fact]
    public async Task Snapshot_UnknownBackend_ChangesNothing()
    {
        Sys.EventStream.Publish(Backend("ollama-elsewhere", "nvidia", 1, 1) with { Version = 9 });
        var view = await _publisher.Ask<RoutingView>(GetRoutingView.Instance, Wait);

        Assert.Equal(Fleet.Select(b => b.Id), view.Backends.Select(b => b.Id));
    }
}
