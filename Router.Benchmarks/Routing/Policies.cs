using System.Collections.Immutable;
using Router.Actors.Routing;

namespace Router.Benchmarks.Routing;

/// <summary>Picks a device for a request, or refuses it with a reason.</summary>
internal interface IRoutingPolicy
{
    string Name { get; }

    /// <summary>Index of the chosen device, or -1 with <paramref name="refusal"/> set.</summary>
    /// <param name="excluded">Devices the request already left (its max-queue-wait ran out there); never chosen again.</param>
    int Choose(WorkItem item, IReadOnlyList<SimDevice> devices, SimEnvironment environment, IReadOnlySet<string> excluded, out string? refusal);
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

    public int Choose(WorkItem item, IReadOnlyList<SimDevice> devices, SimEnvironment environment, IReadOnlySet<string> excluded, out string? refusal)
    {
        // The devices' temperatures reach the scorer (heat penalty, Quiet's filter) and Auto (the
        // machine's hottest reading) as the thermal actor would publish them.
        var snapshots = new BackendSnapshot[devices.Count];
        var thermal = ImmutableDictionary.CreateBuilder<string, DeviceThermal>(StringComparer.Ordinal);
        double hottest = double.MinValue;
        for (int i = 0; i < devices.Count; i++)
        {
            snapshots[i] = devices[i].Snapshot(Model);
            double temperature = devices[i].TemperatureAt(environment.NowMs);
            thermal[devices[i].Profile.Id] = new DeviceThermal(temperature, DeviceProfile.HotC, DeviceProfile.LimitC);
            hottest = Math.Max(hottest, temperature);
        }

        var readings = new ModeReadings(environment.OnAc, environment.BatteryPercent, hottest, Throttling: false);
        _effective = ModeResolver.Resolve(_mode, _effective, readings, ModeThresholds.Default).EffectiveMode;
        RequestsByEffectiveMode[_effective] = RequestsByEffectiveMode.GetValueOrDefault(_effective) + 1;

        var state = SystemState.Default with
        {
            Mode = _mode,
            EffectiveMode = _effective,
            OnAcPower = environment.OnAc,
            BatteryPercent = environment.BatteryPercent,
            MaxTemperatureC = hottest,
            ThermalByBackend = thermal.ToImmutable(),
        };
        var hints = RoutingHints.Default with
        {
            Priority = item.Priority,
            MaxLatencyMs = item.MaxLatencyMs,
            LatencyCritical = item.LatencyCritical,
            PreferPowerEfficiency = item.PreferPowerEfficiency,
        };
        var request = new RouteRequest(Model, hints)
        {
            ExpectedTokens = item.MaxTokens,
            ExcludedBackendIds = excluded.Count == 0 ? ImmutableArray<string>.Empty : [.. excluded],
        };

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

    public int Choose(WorkItem item, IReadOnlyList<SimDevice> devices, SimEnvironment environment, IReadOnlySet<string> excluded, out string? refusal)
    {
        for (int tried = 0; tried < devices.Count; tried++)
        {
            int chosen = _next;
            _next = (_next + 1) % devices.Count;
            if (!excluded.Contains(devices[chosen].Profile.Id))
            {
                refusal = null;
                return chosen;
            }
        }

        refusal = NoDeviceLeft;
        return -1;
    }

    internal const string NoDeviceLeft = "no device left to try";
}

/// <summary>Fewest requests in flight and waiting; ties to the first configured.</summary>
internal sealed class LeastBusyPolicy : IRoutingPolicy
{
    public string Name => "least-busy";

    public int Choose(WorkItem item, IReadOnlyList<SimDevice> devices, SimEnvironment environment, IReadOnlySet<string> excluded, out string? refusal)
    {
        int best = -1;
        for (int i = 0; i < devices.Count; i++)
        {
            if (!excluded.Contains(devices[i].Profile.Id)
                && (best < 0 || devices[i].InFlight + devices[i].Waiting < devices[best].InFlight + devices[best].Waiting))
            {
                best = i;
            }
        }

        refusal = best < 0 ? RoundRobinPolicy.NoDeviceLeft : null;
        return best;
    }
}

/// <summary>Always the device with the lowest configured time to first token.</summary>
internal sealed class AlwaysFastestPolicy : IRoutingPolicy
{
    public string Name => "always-fastest";

    public int Choose(WorkItem item, IReadOnlyList<SimDevice> devices, SimEnvironment environment, IReadOnlySet<string> excluded, out string? refusal)
    {
        int best = -1;
        for (int i = 0; i < devices.Count; i++)
        {
            if (!excluded.Contains(devices[i].Profile.Id) && (best < 0 || devices[i].Profile.TtftMs < devices[best].Profile.TtftMs))
            {
                best = i;
            }
        }

        refusal = best < 0 ? RoundRobinPolicy.NoDeviceLeft : null;
        return best;
    }
}

/// <summary>Runs a workload through a policy on the simulated devices, on a virtual clock.</summary>
internal static class Simulator
{
    /// <summary>Why a request that moved on from every device it may try was refused (a 503 naming the wait).</summary>
    public const string WaitedTooLong = "waited max-queue-wait on every device tried";

    public static SimResults Run(IRoutingPolicy policy, ImmutableArray<WorkItem> work, ImmutableArray<DeviceProfile> profiles, PowerSchedule power, SimOptions options)
    {
        var results = new SimResults(policy.Name, power);
        var devices = new SimDevice[profiles.Length];
        for (int i = 0; i < profiles.Length; i++)
        {
            devices[i] = new SimDevice(profiles[i], options, results);
        }

        var excludedById = new Dictionary<int, HashSet<string>>();
        var expired = new List<WorkItem>();
        IReadOnlySet<string> none = new HashSet<string>();
        int nextArrival = 0;
        double now = 0;
        while (true)
        {
            // Next event: the earliest completion, else the earliest max-queue-wait running out, else
            // the next arrival (in that order on a tie, so a request arriving as a slot frees sees it free).
            int completing = -1, expiring = -1;
            for (int i = 0; i < devices.Length; i++)
            {
                if (devices[i].Current is not null && (completing < 0 || devices[i].CurrentEndMs < devices[completing].CurrentEndMs))
                {
                    completing = i;
                }

                if (devices[i].NextDeadlineMs < double.MaxValue && (expiring < 0 || devices[i].NextDeadlineMs < devices[expiring].NextDeadlineMs))
                {
                    expiring = i;
                }
            }

            double completionAt = completing >= 0 ? devices[completing].CurrentEndMs : double.MaxValue;
            double deadlineAt = expiring >= 0 ? devices[expiring].NextDeadlineMs : double.MaxValue;
            double arrivalAt = nextArrival < work.Length ? work[nextArrival].ArrivalMs : double.MaxValue;
            if (completionAt == double.MaxValue && deadlineAt == double.MaxValue && arrivalAt == double.MaxValue)
            {
                break;
            }

            if (completionAt <= deadlineAt && completionAt <= arrivalAt)
            {
                now = completionAt;
                devices[completing].Complete(now);
            }
            else if (deadlineAt <= arrivalAt)
            {
                // The request leaves that queue for the next alternative, as InferenceRouter does.
                now = deadlineAt;
                expired.Clear();
                devices[expiring].Expire(now, expired);
                foreach (WorkItem item in expired)
                {
                    results.MovedOn++;
                    if (!excludedById.TryGetValue(item.Id, out HashSet<string>? excluded))
                    {
                        excludedById[item.Id] = excluded = new HashSet<string>(StringComparer.Ordinal);
                    }

                    excluded.Add(devices[expiring].Profile.Id);
                    if (excluded.Count >= options.MaxAttempts)
                    {
                        results.Refused(item, WaitedTooLong, now);
                    }
                    else
                    {
                        Dispatch(item, now, excluded);
                    }
                }
            }
            else
            {
                WorkItem item = work[nextArrival++];
                now = item.ArrivalMs;
                results.Arrived(item);
                Dispatch(item, now, none);
            }
        }

        foreach (SimDevice device in devices)
        {
            _ = device.TemperatureAt(now);
            results.EnergyWh += device.EnergyWh;
            results.SecondsAboveHot[device.Profile.Id] = device.SecondsAboveHot;
        }

        return results;

        void Dispatch(WorkItem item, double at, IReadOnlySet<string> excluded)
        {
            var environment = new SimEnvironment(at, power.OnAc(at), power.BatteryPercent(at));
            int chosen = policy.Choose(item, devices, environment, excluded, out string? refusal);
            if (chosen < 0)
            {
                if (refusal == nameof(RouteFailureKind.QueueFull))
                {
                    results.Shed(item, at);
                }
                else
                {
                    results.Refused(item, excluded.Count > 0 ? WaitedTooLong : refusal ?? "refused", at);
                }

                return;
            }

            if (devices[chosen].Admit(item, at) is { } shed)
            {
                results.Shed(shed, at);
            }
        }
    }
}
