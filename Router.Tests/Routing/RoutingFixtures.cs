using System.Collections.Immutable;
using Router.Actors.Routing;

namespace Router.Tests.Routing;

/// <summary>The four default backends of the machine this was designed on, all healthy and holding <see cref="Model"/>.</summary>
internal static class RoutingFixtures
{
    public const string Model = "llama3.2";
    public const string Npu = "ollama-npu";
    public const string Igpu = "ollama-igpu";
    public const string Nvidia = "ollama-nvidia";
    public const string Cpu = "ollama-cpu";

    public static ImmutableArray<BackendSnapshot> DefaultBackends() =>
    [
        Backend(Npu, "npu", 3, 800),
        Backend(Igpu, "igpu", 12, 350),
        Backend(Nvidia, "nvidia", 55, 150),
        Backend(Cpu, "cpu", 28, 1200),
    ];

    public static BackendSnapshot Backend(string id, string hardware, double watts, double latencyMs) => new()
    {
        Id = id,
        Name = id,
        Hardware = hardware,
        Health = BackendHealth.Healthy,
        PowerWatts = watts,
        AvgLatencyMs = latencyMs,
        Models = ImmutableHashSet.Create(Model),
        ModelsKnown = true,
    };

    /// <summary>The default backends with one of them changed.</summary>
    public static ImmutableArray<BackendSnapshot> With(string id, Func<BackendSnapshot, BackendSnapshot> change)
    {
        var backends = DefaultBackends();
        int index = backends.IndexOf(backends.Single(b => b.Id == id));
        return backends.SetItem(index, change(backends[index]));
    }

    public static SystemState InMode(EfficiencyMode mode) => SystemState.Default with { Mode = mode, EffectiveMode = mode };

    /// <summary>Auto resolved from the readings, as the efficiency actor would publish it.</summary>
    public static SystemState Auto(bool onAc, double? battery, double? temperatureC = null, bool throttling = false)
    {
        var readings = new ModeReadings(onAc, battery, temperatureC, throttling);
        var resolution = ModeResolver.Resolve(EfficiencyMode.Auto, EfficiencyMode.Balanced, readings, ModeThresholds.Default);
        return SystemState.Default with
        {
            Mode = EfficiencyMode.Auto,
            EffectiveMode = resolution.EffectiveMode,
            ModeReason = resolution.Reason,
            OnAcPower = onAc,
            BatteryPercent = battery,
            MaxTemperatureC = temperatureC,
            Throttling = throttling,
        };
    }

    public static RouteRequest Request(RoutingHints? hints = null, string? model = Model) => new(model, hints ?? RoutingHints.Default);

    public static RoutingDecision Routed(RouteOutcome outcome)
    {
        Assert.True(outcome.IsRouted, "expected a decision, got " + outcome.Failure);
        return outcome.Decision!;
    }

    public static RouteFailure Failed(RouteOutcome outcome)
    {
        Assert.False(outcome.IsRouted, "expected a failure, got " + outcome.Decision);
        return outcome.Failure!;
    }

    public static ImmutableArray<int> Queue(int bestEffort = 0, int normal = 0, int high = 0, int critical = 0) =>
        ImmutableArray.Create(bestEffort, normal, high, critical);

    public static RoutingHints Hints(Priority priority = Priority.Normal) => RoutingHints.Default with { Priority = priority };
}
