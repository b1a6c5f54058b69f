using System.Collections.Immutable;
using Router.Actors.Routing;
using Router.Actors.Runtime;

namespace Router.Tests.Routing;

public sealed class SelectorActorTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private ActorSystem _system = null!;
    private IActorRef _selector = null!;

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

    public Task InitializeAsync()
    {
        _system = ActorSystem.Create("selector-tests");
        var state = SystemState.Default with { Mode = EfficiencyMode.Performance, EffectiveMode = EfficiencyMode.Performance };
        _selector = _system.ActorOf(Props.Create(() => new SelectorActor(Fleet, state, ScoringOptions.Default)), "selector");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _system.TerminateAsync();

    private Task<RouteOutcome> RouteAsync(RoutingHints? hints = null) =>
        _selector.Ask<RouteOutcome>(new Route(new RouteRequest("llama3.2:1b", hints ?? RoutingHints.Default)), Wait);

    /// <summary>Publishes <paramref name="evt"/> until the selector routes as expected (it subscribes when it starts).</summary>
    private async Task<RouteOutcome> PublishUntilAsync(object evt, Func<RouteOutcome, bool> condition)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (true)
        {
            _system.EventStream.Publish(evt);
            var outcome = await RouteAsync();
            if (condition(outcome))
            {
                return outcome;
            }

            Assert.True(DateTime.UtcNow < deadline, $"routing never matched; last: {outcome}");
            await Task.Yield();
        }
    }

    [Fact]
    public async Task Route_PerformanceMode_PicksTheNvidiaGpu()
    {
        var outcome = await RouteAsync();
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

        _system.EventStream.Publish(Fleet[2] with { Health = BackendHealth.Healthy, Version = 4 });
        var view = await _selector.Ask<SelectorView>(GetSelectorView.Instance, Wait);

        Assert.Equal(BackendHealth.Unhealthy, view.Backends.Single(b => b.Id == "ollama-nvidia").Health);
    }

    [Fact]
    public async Task Route_AfterSystemStateSwitchesToUltraEfficiency_OnlyTheNpuServes()
    {
        var ultra = SystemState.Default with { Mode = EfficiencyMode.UltraEfficiency, EffectiveMode = EfficiencyMode.UltraEfficiency };

        var outcome = await PublishUntilAsync(ultra, o => o.Decision?.BackendId == "ollama-npu");

        Assert.Empty(outcome.Decision!.Alternatives);
    }
}
