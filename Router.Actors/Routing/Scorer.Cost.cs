namespace Router.Actors.Routing;

public static partial class Scorer
{
    /// <summary>
    /// The cost of each candidate; lower is better.
    /// <list type="bullet">
    /// <item>latency-critical: expected first token (queue included). It overrides the mode's
    /// preference, not the hard filters: in Ultra Efficiency only backends under 10 W remain to
    /// choose from. In Efficiency, the least energy among the devices whose first token comes
    /// within the request's wait budget of the fastest (see <see cref="LeastEnergyWithinSlack"/>).</item>
    /// <item>prefer power efficiency: expected energy (a 28 W device three times slower than a 55 W
    /// one is not the efficient choice).</item>
    /// <item>Performance: expected completion; power ignored.</item>
    /// <item>Balanced: the least energy among the devices whose first token comes within the
    /// request's wait budget of the fastest (<see cref="LeastEnergyWithinSlack"/>); with power-aware
    /// off, expected completion.</item>
    /// <item>Efficiency and Ultra Efficiency: expected energy.</item>
    /// <item>Quiet: power draw (high-power and hot devices are already filtered out).</item>
    /// </list>
    /// Wherever energy or power counts, a battery-powered candidate's counts
    /// <see cref="ScoringOptions.BatteryEnergyWeight"/> times when other candidates run on mains
    /// (fleet nodes on different power). Every cost is then multiplied by the heat factor and, for
    /// a Degraded backend, its penalty; last, a candidate over the request's wait budget goes after
    /// those within it (see <see cref="WithWaitBudget"/>).
    /// </summary>
    private static void Cost(ReadOnlySpan<int> candidates, IReadOnlyList<BackendSnapshot> backends, ReadOnlySpan<Estimate> estimates, Span<double> costs, in Inputs inputs)
    {
        RoutingHints hints = inputs.Request.Hints;
        ScoringOptions options = inputs.Options;
        bool mixedPower = MixedPower(candidates, backends, inputs.State);
        double fastestLatencyMs = FastestLatencyMs(candidates, estimates);

        foreach (int i in candidates)
        {
            BackendSnapshot backend = backends[i];
            Estimate estimate = estimates[i];
            double battery = mixedPower && OnBattery(backend, inputs.State) ? options.BatteryEnergyWeight : 1;
            double cost;
            if (hints.LatencyCritical)
            {
                cost = inputs.Mode == EfficiencyMode.Efficiency
                    ? LeastEnergyWithinSlack(backend, in estimate, fastestLatencyMs, in inputs, battery)
                    : estimate.LatencyMs;
            }
            else if (hints.PreferPowerEfficiency)
            {
                cost = estimate.EnergyWh(backend.PowerWatts) * battery;
            }
            else
            {
                cost = inputs.Mode switch
                {
                    EfficiencyMode.Performance => estimate.CompletionMs,
                    EfficiencyMode.Efficiency or EfficiencyMode.UltraEfficiency => estimate.EnergyWh(backend.PowerWatts) * battery,
                    EfficiencyMode.Quiet => backend.PowerWatts * battery,
                    _ => options.BalancedWeighsEnergy
                        ? LeastEnergyWithinSlack(backend, in estimate, fastestLatencyMs, in inputs, battery)
                        : estimate.CompletionMs,
                };
            }

            double penalty = HeatFactor(backend, in inputs);
            if (backend.Health == BackendHealth.Degraded)
            {
                penalty *= options.DegradedPenalty;
            }

            costs[i] = WithWaitBudget(cost * penalty, penalty, in estimate, in inputs);
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
}
