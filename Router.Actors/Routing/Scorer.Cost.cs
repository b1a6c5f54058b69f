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
    /// Every cost is then multiplied by the heat factor and, for a Degraded backend, its penalty.
    /// </summary>
    private static void Cost(ReadOnlySpan<int> candidates, IReadOnlyList<BackendSnapshot> backends, ReadOnlySpan<Estimate> estimates, Span<double> costs, in Inputs inputs)
    {
        RoutingHints hints = inputs.Request.Hints;
        ScoringOptions options = inputs.Options;

        foreach (int i in candidates)
        {
            BackendSnapshot backend = backends[i];
            Estimate estimate = estimates[i];
            double cost;
            if (hints.LatencyCritical)
            {
                cost = estimate.LatencyMs;
            }
            else if (hints.PreferPowerEfficiency)
            {
                cost = backend.PowerWatts;
            }
            else
            {
                cost = inputs.Mode switch
                {
                    EfficiencyMode.Performance => estimate.CompletionMs,
                    EfficiencyMode.Efficiency =>
                        estimate.EnergyWh(backend.PowerWatts)
                        + (inputs.InteractiveBudgetMs is { } budget && estimate.LatencyMs > budget ? OutsideBudgetCost : 0)
                        + FrugalWaitCost(in estimate, options),
                    EfficiencyMode.UltraEfficiency => estimate.EnergyWh(backend.PowerWatts),
                    EfficiencyMode.Quiet => backend.PowerWatts + FrugalWaitCost(in estimate, options),
                    _ => (options.BalancedLatencyWeightPerSecond * estimate.CompletionMs / 1000)
                        + (options.BalancedPowerWeightPerWatt * backend.PowerWatts)
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

    private static double FrugalWaitCost(in Estimate estimate, ScoringOptions options) =>
        options.FrugalMaxWaitMs is { } maxWait && estimate.WaitMs > maxWait ? OutsideBudgetCost : 0;
}
