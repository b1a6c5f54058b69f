using System.Collections.Immutable;
using Router.Actors.Routing;

namespace Router.Benchmarks.Routing;

/// <summary>Picks a device for a request, or refuses it with a reason.</summary>
internal interface IRoutingPolicy
{
    string Name { get; }

    /// <summary>Index of the chosen device, or -1 with <paramref name="refusal"/> set.</summary>
    int Choose(WorkItem item, IReadOnlyList<SimDevice> devices, SimEnvironment environment, out string? refusal);
}

/// <summary>The machine's state at the moment of a request.</summary>
internal readonly record struct SimEnvironment(double NowMs, bool OnAc, double BatteryPercent);

/// <summary>The real <see cref="Scorer"/> in one efficiency mode; Auto resolved by the real <see cref="ModeResolver"/> with hysteresis.</summary>
internal sealed class ScorerPolicy : IRoutingPolicy
{
    public const string Model = "llama3.2";
    private readonly EfficiencyMode _mode;
    private readonly ScoringOptions _options;
    private EfficiencyMode _effective;

    public ScorerPolicy(EfficiencyMode mode, ScoringOptions? options = null, string? name = null)
    {
        _mode = mode;
        _options = options ?? ScoringOptions.Default;
        Name = name ?? mode.ToString();
        _effective = mode == EfficiencyMode.Auto ? EfficiencyMode.Balanced : mode;
    }

    public string Name { get; }

    /// <summary>Requests routed in each effective mode (Auto moves through several).</summary>
    public Dictionary<EfficiencyMode, int> RequestsByEffectiveMode { get; } = [];

    public int Choose(WorkItem item, IReadOnlyList<SimDevice> devices, SimEnvironment environment, out string? refusal)
    {
        var readings = new ModeReadings(environment.OnAc, environment.BatteryPercent, 55, Throttling: false);
        _effective = ModeResolver.Resolve(_mode, _effective, readings, ModeThresholds.Default).EffectiveMode;
        RequestsByEffectiveMode[_effective] = RequestsByEffectiveMode.GetValueOrDefault(_effective) + 1;

        var snapshots = new BackendSnapshot[devices.Count];
        for (int i = 0; i < devices.Count; i++)
        {
            snapshots[i] = devices[i].Snapshot(Model);
        }

        var state = SystemState.Default with
        {
            Mode = _mode,
            EffectiveMode = _effective,
            OnAcPower = environment.OnAc,
            BatteryPercent = environment.BatteryPercent,
        };
        var hints = RoutingHints.Default with
        {
            Priority = item.Priority,
            MaxLatencyMs = item.MaxLatencyMs,
            LatencyCritical = item.LatencyCritical,
            PreferPowerEfficiency = item.PreferPowerEfficiency,
        };
        var request = new RouteRequest(Model, hints) { ExpectedTokens = item.MaxTokens };

        RouteOutcome outcome = Scorer.Route(request, snapshots, state, _options);
        if (outcome.Decision is { } decision)
        {
            refusal = null;
            for (int i = 0; i < devices.Count; i++)
            {
                if (devices[i].Profile.Id == decision.BackendId)
                {
                    return i;
                }
            }
        }

        refusal = outcome.Failure?.Kind.ToString() ?? "none";
        return -1;
    }
}

internal sealed class RoundRobinPolicy : IRoutingPolicy
{
    private int _next;

    public string Name => "round-robin";

    public int Choose(WorkItem item, IReadOnlyList<SimDevice> devices, SimEnvironment environment, out string? refusal)
    {
        refusal = null;
        int chosen = _next;
        _next = (_next + 1) % devices.Count;
        return chosen;
    }
}

/// <summary>Fewest requests in flight and waiting; ties to the first configured.</summary>
internal sealed class LeastBusyPolicy : IRoutingPolicy
{
    public string Name => "least-busy";

    public int Choose(WorkItem item, IReadOnlyList<SimDevice> devices, SimEnvironment environment, out string? refusal)
    {
        refusal = null;
        int best = 0;
        for (int i = 1; i < devices.Count; i++)
        {
            if (devices[i].InFlight + devices[i].Waiting < devices[best].InFlight + devices[best].Waiting)
            {
                best = i;
            }
        }

        return best;
    }
}

/// <summary>Always the device with the lowest configured time to first token.</summary>
internal sealed class AlwaysFastestPolicy : IRoutingPolicy
{
    public string Name => "always-fastest";

    public int Choose(WorkItem item, IReadOnlyList<SimDevice> devices, SimEnvironment environment, out string? refusal)
    {
        refusal = null;
        int best = 0;
        for (int i = 1; i < devices.Count; i++)
        {
            if (devices[i].Profile.TtftMs < devices[best].Profile.TtftMs)
            {
                best = i;
            }
        }

        return best;
    }
}

/// <summary>Runs a workload through a policy on the simulated devices, on a virtual clock.</summary>
internal static class Simulator
{
    public static SimResults Run(IRoutingPolicy policy, ImmutableArray<WorkItem> work, ImmutableArray<DeviceProfile> profiles, PowerSchedule power, SimOptions options)
    {
        var devices = new SimDevice[profiles.Length];
        for (int i = 0; i < profiles.Length; i++)
        {
            devices[i] = new SimDevice(profiles[i], options);
        }

        var results = new SimResults(policy.Name);
        int nextArrival = 0;
        while (true)
        {
            // Next event: the earliest completion, else the next arrival (completions first on a tie,
            // so a request arriving as a slot frees sees it free).
            int completing = -1;
            for (int i = 0; i < devices.Length; i++)
            {
                if (devices[i].Current is not null && (completing < 0 || devices[i].CurrentEndMs < devices[completing].CurrentEndMs))
                {
                    completing = i;
                }
            }

            bool arrivalsLeft = nextArrival < work.Length;
            if (completing >= 0 && (!arrivalsLeft || devices[completing].CurrentEndMs <= work[nextArrival].ArrivalMs))
            {
                devices[completing].Complete(devices[completing].CurrentEndMs, results);
                continue;
            }

            if (!arrivalsLeft)
            {
                break;
            }

            WorkItem item = work[nextArrival++];
            double now = item.ArrivalMs;
            var environment = new SimEnvironment(now, power.OnAc(now), power.BatteryPercent(now));
            int chosen = policy.Choose(item, devices, environment, out string? refusal);
            if (chosen < 0)
            {
                if (refusal == nameof(RouteFailureKind.QueueFull))
                {
                    results.Shed(item);
                }
                else
                {
                    results.Refused(item, refusal ?? "refused");
                }

                continue;
            }

            if (devices[chosen].Admit(item, now) is { } shed)
            {
                results.Shed(shed);
            }
        }

        foreach (SimDevice device in devices)
        {
            results.EnergyWh += device.EnergyWh;
        }

        return results;
    }
}
