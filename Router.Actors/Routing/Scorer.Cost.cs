namespace Router.Actors.Routing;

public static partial class Scorer
{
    /// <summary>Added to the cost of a candidate outside Auto-Efficiency's interactive budget, so any candidate within it wins.</summary>
    private const double OutsideBudgetCost = 1e9;

    /// <summary>
    /// The cost of each candidate; lower is better.
    /// <list type="bullet">
    /// <item>latency-critical: expected latency (queue included). It overrides the mode's preference,
    /// not the hard filters: in Ultra Efficiency only backends under 10 W remain to choose from.</item>
    /// <item>prefer power efficiency: power draw.</item>
    /// <item>Performance: expected completion; power ignored.</item>
    /// <item>Balanced: weighted expected completion, power and requests ahead
    /// (see <see cref="ScoringOptions.BalancedLatencyWeightPerSecond"/>).</item>
    /// <item>Efficiency and Ultra Efficiency: expected energy; in Auto-reached Efficiency, candidates
    /// outside the interactive latency budget come last.</item>
    /// <item>Quiet: power draw (high-power and hot devices are already filtered out).</item>
    /// <item>Efficiency and Quiet put candidates with a queue wait beyond
    /// <see cref="ScoringOptions.FrugalMaxWaitMs"/> last.</item>
    /// </list>
    /// Wherever energy or power counts, a battery-powered candidate's counts
    /// <see cref="ScoringOptions.BatteryEnergyWeight"/> times when other candidates run on mains
    /// (fleet nodes on different power). Every cost is then multiplied by the heat factor and, for a
    /// Degraded backend, its penalty.
    /// </summary>
    private static void Cost(ReadOnlySpan<int> candidates, IReadOnlyList<BackendSnapshot> backends, ReadOnlySpan<Estimate> estimates, Span<double> costs, in Inputs inputs)
    {
        RoutingHints hints = inputs.Request.Hints;
        ScoringOptions options = inputs.Options;
        bool mixedPower = MixedPower(candidates, backends, inputs.State);

        foreach (int i in candidates)
        {
            BackendSnapshot backend = backends[i];
            Estimate estimate = estimates[i];
            double battery = mixedPower && OnBattery(backend, inputs.State) ? options.BatteryEnergyWeight : 1;
            double cost;
            if (hints.LatencyCritical)
            {
                cost = estimate.LatencyMs;
            }
            else if (hints.PreferPowerEfficiency)
            {
                cost = backend.PowerWatts * battery;
            }
            else
            {
                cost = inputs.Mode switch
                {
                    EfficiencyMode.Performance => estimate.CompletionMs,
                    EfficiencyMode.Efficiency =>
                        (estimate.EnergyWh(backend.PowerWatts) * battery)
                        + (inputs.InteractiveBudgetMs is { } budget && estimate.LatencyMs > budget ? OutsideBudgetCost : 0)
                        + FrugalWaitCost(in estimate, options),
                    EfficiencyMode.UltraEfficiency => estimate.EnergyWh(backend.PowerWatts) * battery,
                    EfficiencyMode.Quiet => (backend.PowerWatts * battery) + FrugalWaitCost(in estimate, options),
                    _ => (options.BalancedLatencyWeightPerSecond * estimate.CompletionMs / 1000)
                        + (options.BalancedPowerWeightPerWatt * backend.PowerWatts * battery)
                        + (options.BalancedQueueWeightPerRequest * estimate.QueueAhead),
                };
            }

            cost *= HeatFactor(backend, in inputs);
            if (backend.Health == BackendHealth.Degraded)
            {
                cost *= options.DegradedPenalty;
            }

            costs[i] = cost;
        }
    }

    /// <summary>Whether some candidates draw on a battery and others on mains.</summary>
    private static bool MixedPower(ReadOnlySpan<int> candidates, IReadOnlyList<BackendSnapshot> backends, SystemState state)
    {
        bool battery = false, mains = false;
        foreach (int i in candidates)
        {
            if (OnBattery(backends[i], state))
            {
                battery = true;
            }
            else
            {
                mains = true;
            }
        }

        return battery && mains;
    }

    private static double FrugalWaitCost(in Estimate estimate, ScoringOptions options) =>
        options.FrugalMaxWaitMs is { } maxWait && estimate.WaitMs > maxWait ? OutsideBudgetCost : 0;
}
