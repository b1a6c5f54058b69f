using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Router.Actors.Config;
using Router.Actors.Routing;

namespace Router.Benchmarks.Routing;

/// <summary>
/// The routing simulation benchmark (issue 3, item 9): a discrete-event simulation of the four
/// default devices on a virtual clock, replaying a seeded mixed workload through each efficiency
/// mode (the real <see cref="Scorer"/> and <see cref="ModeResolver"/>) and through naive policies.
/// Runs in seconds; no real waiting. <c>scripts/bench-routing</c> runs it.
/// </summary>
/// <remarks>
/// Model, and what it leaves out: energy is device power × busy time (idle draw is not counted,
/// for any policy). The router is told max_tokens, not the answer's real length, and not the
/// prompt's length, whose prefill adds to the real first-token time: its estimates err as they
/// would in production, and max-latency violations come from that error and from higher
/// priorities overtaking a queued request. Preemption exists only in this simulation (and as an
/// opt-in in <see cref="ScoringOptions.CriticalPreemptsBelow"/>); the overload table shows what it buys.
/// </remarks>
public static class RoutingSimulation
{
    private const double Minute = 60_000;

    /// <summary>Arguments: <c>[--seed N]</c>. Returns 0.</summary>
    public static int Run(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        int seed = 42;
        for (int i = 0; i < args.Length - 1; i++)
        {
            if (args[i] == "--seed")
            {
                seed = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            }
        }

        var output = new StringBuilder();
        var profiles = DeviceProfile.Defaults;
        var options = new SimOptions();

        // Scenario 1: three hours; on AC for 30 minutes, then the battery drains from 100 % to 10 %.
        var power = new PowerSchedule(UnplugAtMs: 30 * Minute, EndMs: 180 * Minute, EndPercent: 10);
        var work = Workload.Mixed(seed, 180 * Minute, meanInterarrivalMs: 25_000);
        double capacity = CapacityPerSecond(work, profiles);
        Line(output, $"Routing simulation (seed {seed}): {work.Length} requests over 3 h, one every 25 s on average ({100 * (work.Length / (180 * 60.0)) / capacity:0}% of the four devices' capacity of {capacity:0.00} req/s).");
        Line(output, "Devices: npu 3 W 800 ms 15 tok/s; igpu 12 W 350 ms 30 tok/s; nvidia 55 W 150 ms 80 tok/s; cpu 28 W 1200 ms 10 tok/s; max-concurrent 1.");
        Line(output, "Battery: on AC for 30 min, then drains linearly from 100 % to 10 % at 3 h. Latency = time to first token, queue included (ms).");
        Line(output, "");

        IRoutingPolicy[] policies =
        [
            new ScorerPolicy(EfficiencyMode.Performance),
            new ScorerPolicy(EfficiencyMode.Balanced),
            new ScorerPolicy(EfficiencyMode.Efficiency),
            new ScorerPolicy(EfficiencyMode.Quiet),
            new ScorerPolicy(EfficiencyMode.UltraEfficiency),
            new ScorerPolicy(EfficiencyMode.Auto),
            new RoundRobinPolicy(),
            new LeastBusyPolicy(),
            new AlwaysFastestPolicy(),
        ];
        var results = new List<SimResults>();
        foreach (IRoutingPolicy policy in policies)
        {
            results.Add(Simulator.Run(policy, work, profiles, power, options));
        }

        SimResults R(string name) => results.Single(r => r.Policy == name);
        double fastestWh = R("always-fastest").EnergyWh;
        Table(output, results, fastestWh);
        Line(output, "");
        var auto = (ScorerPolicy)policies.Single(p => p.Name == nameof(EfficiencyMode.Auto));
        Line(output, $"Auto's effective modes: {string.Join(", ", auto.RequestsByEffectiveMode.OrderBy(p => p.Key).Select(p => $"{p.Key} {p.Value}"))} requests.");
        Line(output, "");
        Phases(output, results);
        Line(output, "");

        var goals = new List<(string Text, bool Met)>();
        SimResults performance = R(nameof(EfficiencyMode.Performance)), balanced = R(nameof(EfficiencyMode.Balanced)),
            efficiency = R(nameof(EfficiencyMode.Efficiency)), quiet = R(nameof(EfficiencyMode.Quiet)), autoResults = R(nameof(EfficiencyMode.Auto)),
            leastBusy = R("least-busy"), roundRobin = R("round-robin"), fastest = R("always-fastest");
        double Normal95(SimResults r) => r.LatencyPercentile(Priority.Normal, 95);
        double Critical95(SimResults r) => r.LatencyPercentile(Priority.Critical, 95);

        double saving = 1 - (efficiency.EnergyWh / fastestWh);
        goals.Add(($"Efficiency uses >= 55% less energy than always-fastest ({saving:P0} less) with a normal p95 <= 2x least-busy's ({Normal95(efficiency):0} ms <= {2 * Normal95(leastBusy):0} ms)",
            saving >= 0.55 && Normal95(efficiency) <= 2 * Normal95(leastBusy)));

        SimResults[] naive = [leastBusy, roundRobin];
        goals.Add(($"Balanced dominates least-busy and round-robin: energy {balanced.EnergyWh:0.00} <= {naive.Min(r => r.EnergyWh):0.00} Wh, normal p95 {Normal95(balanced):0} <= {naive.Min(Normal95):0} ms, critical p95 {Critical95(balanced):0} <= {naive.Min(Critical95):0} ms",
            naive.All(r => balanced.EnergyWh <= r.EnergyWh && Normal95(balanced) <= Normal95(r) && Critical95(balanced) <= Critical95(r))));

        double fewestHot = results.Where(r => r != quiet).Min(r => r.SecondsAboveHotTotal);
        goals.Add(($"Quiet uses no more energy than always-fastest ({quiet.EnergyWh:0.00} <= {fastestWh:0.00} Wh) and has the fewest device-seconds above hot ({quiet.SecondsAboveHotTotal:0} s; the fewest of any other policy: {fewestHot:0} s)",
            quiet.EnergyWh <= fastestWh && quiet.SecondsAboveHotTotal <= fewestHot));

        double acLatency = autoResults.MeanLatencyOn(onAc: true), acBest = performance.MeanLatencyOn(onAc: true);
        double batteryWh = autoResults.EnergyWhOn(onAc: false), batteryBest = efficiency.EnergyWhOn(onAc: false);
        goals.Add(($"Auto on AC within 10% of Performance's mean time to first token ({acLatency:0} ms vs {acBest:0} ms)", acLatency <= 1.1 * acBest));
        goals.Add(($"Auto on battery within 10% of Efficiency's energy ({batteryWh:0.00} Wh vs {batteryBest:0.00} Wh)", batteryWh <= 1.1 * batteryBest));

        double budgetMs = options.MaxQueueWaitMs[(int)Priority.BestEffort];
        foreach (SimResults r in results.Where(r => policies.Any(p => p.Name == r.Policy && p is ScorerPolicy)))
        {
            goals.Add((Starvation(r, budgetMs), Starves(r, budgetMs) is false));
        }

        // Scenario 2: ten minutes at twice the devices' capacity, on AC.
        var overloadWork = Workload.Mixed(seed + 1, 10 * Minute, meanInterarrivalMs: 1000 / (2 * capacity));
        var criticalOnly = overloadWork.Where(w => w.Priority == Priority.Critical).ToImmutableArray();
        Line(output, $"Overload: {overloadWork.Length} requests in 10 min on AC (2x capacity); critical p99 latency against the same critical requests alone.");
        Line(output, "Preemption: 'preempt<N' = a critical request cancels a best-effort one in flight (counted as shed), and the scorer knows it;");
        Line(output, "'preempt<H' = best effort and normal. Without it a critical request waits for whatever runs on its device.");
        Line(output, "policy                     crit p99 alone  crit p99 loaded  ratio  crit p99 wait  shed BE/N/H/C   refused BE/N/H/C  served");
        var noPreemption = options;
        var preemptBestEffort = options with { CriticalPreemptsBelow = Priority.Normal };
        var preemptNormal = options with { CriticalPreemptsBelow = Priority.High };
        var scorerPreemptBestEffort = ScoringOptions.Default with { CriticalPreemptsBelow = Priority.Normal };
        var scorerPreemptNormal = ScoringOptions.Default with { CriticalPreemptsBelow = Priority.High };
        (string Name, Func<IRoutingPolicy> Make, SimOptions Options)[] overloadRuns =
        [
            ("Auto", () => new ScorerPolicy(EfficiencyMode.Auto), noPreemption),
            ("Auto preempt<N", () => new ScorerPolicy(EfficiencyMode.Auto, scorerPreemptBestEffort), preemptBestEffort),
            ("Auto preempt<H", () => new ScorerPolicy(EfficiencyMode.Auto, scorerPreemptNormal), preemptNormal),
            ("Balanced", () => new ScorerPolicy(EfficiencyMode.Balanced), noPreemption),
            ("Balanced preempt<H", () => new ScorerPolicy(EfficiencyMode.Balanced, scorerPreemptNormal), preemptNormal),
            ("Efficiency", () => new ScorerPolicy(EfficiencyMode.Efficiency), noPreemption),
            ("Efficiency preempt<H", () => new ScorerPolicy(EfficiencyMode.Efficiency, scorerPreemptNormal), preemptNormal),
            ("least-busy", () => new LeastBusyPolicy(), noPreemption),
            ("round-robin", () => new RoundRobinPolicy(), noPreemption),
            ("always-fastest", () => new AlwaysFastestPolicy(), noPreemption),
        ];
        var ratios = new Dictionary<string, (double Ratio, SimResults Loaded)>(StringComparer.Ordinal);
        foreach (var run in overloadRuns)
        {
            SimResults alone = Simulator.Run(run.Make(), criticalOnly, profiles, PowerSchedule.AlwaysOnAc, run.Options);
            SimResults loaded = Simulator.Run(run.Make(), overloadWork, profiles, PowerSchedule.AlwaysOnAc, run.Options);
            double a = alone.LatencyPercentile(Priority.Critical, 99), l = loaded.LatencyPercentile(Priority.Critical, 99);
            ratios[run.Name] = (l / a, loaded);
            Line(output, $"{run.Name,-26} {a,14:0} {l,16:0} {l / a,6:0.00} {loaded.WaitPercentile(Priority.Critical, 99),14:0}  {Counts(loaded.ShedAt),-15} {Counts(loaded.RefusedAt),-17} {loaded.ServedTotal,6}");
        }

        // The router's default (routing.critical-preempts-below = high) is 'preempt<H'; plain
        // 'Auto' shows what happens with preemption turned off.
        var (defaultRatio, defaultLoaded) = ratios["Auto preempt<H"];
        bool bestEffortFirst = defaultLoaded.ShedAt(Priority.BestEffort) >= defaultLoaded.ShedAt(Priority.Normal)
            && defaultLoaded.ShedAt(Priority.Normal) >= defaultLoaded.ShedAt(Priority.High)
            && defaultLoaded.ShedAt(Priority.High) >= defaultLoaded.ShedAt(Priority.Critical);
        goals.Add(($"Under 2x overload critical p99 within 1.2x of unloaded, best effort shed first (Auto, default preemption): {defaultRatio:0.00}x, shed BE/N/H/C {Counts(defaultLoaded.ShedAt)}, refused {Counts(defaultLoaded.RefusedAt)}",
            defaultRatio <= 1.2 && bestEffortFirst));
        goals.Add(("Under 2x overload (Auto, default preemption), " + Starvation(defaultLoaded, budgetMs), Starves(defaultLoaded, budgetMs) is false));

        Line(output, "");
        Line(output, "Goals:");
        foreach (var (text, met) in goals)
        {
            Line(output, $"  {(met ? "MET   " : "MISSED")} {text}");
        }

        Line(output, $"{goals.Count(g => g.Met)} of {goals.Count} goals met.");
        Line(output, "");
        MeasureScorer(output, profiles, options);
        Console.Write(output.ToString());
        return 0;
    }

    /// <summary>The scorer's own cost per call, on the four default devices with one busy.</summary>
    private static void MeasureScorer(StringBuilder output, ImmutableArray<DeviceProfile> profiles, SimOptions options)
    {
        var devices = profiles.Select(p => new SimDevice(p, options, new SimResults("scorer", PowerSchedule.AlwaysOnAc))).ToArray();
        devices[2].Admit(new WorkItem(0, 0, Priority.Normal, "chat", 100, 128, 100, null, false, false), 0);
        IReadOnlyList<BackendSnapshot> snapshots = devices.Select(d => d.Snapshot(ScorerPolicy.Model)).ToImmutableArray();
        var state = SystemState.Default with { Mode = EfficiencyMode.Balanced, EffectiveMode = EfficiencyMode.Balanced };
        var request = new RouteRequest(ScorerPolicy.Model, RoutingHints.Default with { MaxLatencyMs = 5000 });
        const int Calls = 200_000;
        for (int i = 0; i < 10_000; i++)
        {
            _ = Scorer.Route(request, snapshots, state, ScoringOptions.Default);
        }

        long bytes = GC.GetAllocatedBytesForCurrentThread();
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        for (int i = 0; i < Calls; i++)
        {
            _ = Scorer.Route(request, snapshots, state, ScoringOptions.Default);
        }

        TimeSpan elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(start);
        bytes = GC.GetAllocatedBytesForCurrentThread() - bytes;
        Line(output, $"Scorer.Route: {elapsed.TotalMilliseconds * 1e6 / Calls:0} ns and {bytes / Calls} bytes per call (4 backends, the decision included).");
    }

    private static void Table(StringBuilder output, List<SimResults> results, double fastestWh)
    {
        Line(output, "policy           energy Wh  vs fastest   crit p50/p95   high p50/p95   normal p50/p95    best-eff p50/p95  BE max s  shed  refused  moved  violations  served by npu/igpu/nvidia/cpu  s above hot npu/igpu/nvidia/cpu");
        foreach (SimResults r in results)
        {
            Line(output,
                $"{r.Policy,-16} {r.EnergyWh,9:0.00} {(r.EnergyWh / fastestWh) - 1,10:+0%;-0%;0%}  {P(r, Priority.Critical),13}  {P(r, Priority.High),13}  {P(r, Priority.Normal),15}  {P(r, Priority.BestEffort),17} {r.LongestOutcomeMs(Priority.BestEffort) / 1000,9:0} {r.ShedTotal,5} {r.RefusedTotal,8} {r.MovedOn,6} {r.Violations,5}/{r.WithLatencyLimit,-5}  " +
                $"{Devices(r.ByDevice.GetValueOrDefault),-30} {Devices(id => r.SecondsAboveHot.GetValueOrDefault(id)),-20}");
        }
    }

    private static string Devices<T>(Func<string, T> value) =>
        string.Join('/', DeviceProfile.Defaults.Select(d => string.Create(CultureInfo.InvariantCulture, $"{value(d.Id):0}")));

    /// <summary>Auto's goal is per phase of the battery scenario: on AC it should be as fast as Performance, on battery as frugal as Efficiency.</summary>
    private static void Phases(StringBuilder output, List<SimResults> results)
    {
        Line(output, "Per phase             on AC: mean first token ms  energy Wh   on battery: mean first token ms  energy Wh");
        foreach (SimResults r in results)
        {
            Line(output, $"{r.Policy,-16} {r.MeanLatencyOn(true),33:0} {r.EnergyWhOn(true),10:0.00} {r.MeanLatencyOn(false),34:0} {r.EnergyWhOn(false),10:0.00}");
        }
    }

    /// <summary>Best effort starves when a request is lost, or waits past its budget for a first token or a refusal.</summary>
    private static bool Starves(SimResults r, double budgetMs) =>
        r.ServedAt(Priority.BestEffort) + r.ShedAt(Priority.BestEffort) + r.RefusedAt(Priority.BestEffort) != r.ArrivedAt(Priority.BestEffort)
        || r.LongestOutcomeMs(Priority.BestEffort) > budgetMs + 1; // 1 ms: the deadline's own rounding

    private static string Starvation(SimResults r, double budgetMs) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{r.Policy}: every best-effort request served or refused within max-queue-wait ({budgetMs / 1000:0} s): {r.ArrivedAt(Priority.BestEffort)} arrived, {r.ServedAt(Priority.BestEffort)} served, {r.ShedAt(Priority.BestEffort) + r.RefusedAt(Priority.BestEffort)} refused, the longest {r.LongestOutcomeMs(Priority.BestEffort) / 1000:0} s");

    private static string P(SimResults r, Priority priority) =>
        r.ServedAt(priority) == 0
            ? "-"
            : string.Create(CultureInfo.InvariantCulture, $"{r.LatencyPercentile(priority, 50):0}/{r.LatencyPercentile(priority, 95):0}");

    private static string Counts(Func<Priority, int> count) =>
        string.Create(CultureInfo.InvariantCulture, $"{count(Priority.BestEffort)}/{count(Priority.Normal)}/{count(Priority.High)}/{count(Priority.Critical)}");

    /// <summary>Requests per second the four devices serve together for this mix (sum of each device's 1 / mean service time).</summary>
    private static double CapacityPerSecond(ImmutableArray<WorkItem> work, ImmutableArray<DeviceProfile> profiles)
    {
        double capacity = 0;
        foreach (DeviceProfile profile in profiles)
        {
            capacity += 1000 / work.Average(profile.ServiceMs);
        }

        return capacity;
    }

    private static void Line(StringBuilder output, FormattableString text) => output.Append(text.ToString(CultureInfo.InvariantCulture)).Append('\n');

    private static void Line(StringBuilder output, string text) => output.Append(text).Append('\n');
}
