namespace Router.Actors.Routing;

public static partial class Scorer
{
    /// <summary>Added to the cost of a candidate whose first token would come too long after the fastest candidate's.</summary>
    private const double OutsideSlackCost = 1e9;

    /// <summary>The soonest expected first token (queue included) among the candidates, in ms.</summary>
    private static double FastestLatencyMs(ReadOnlySpan<int> candidates, ReadOnlySpan<Estimate> estimates)
    {
        double fastest = double.MaxValue;
        foreach (int i in candidates)
        {
            fastest = Math.Min(fastest, estimates[i].LatencyMs);
        }

        return fastest;
    }

    /// <summary>
    /// Rule "least energy within slack" (Balanced; latency-critical requests in Efficiency): among
    /// the candidates whose expected first token comes no later than the fastest candidate's plus
    /// the request's wait budget (<see cref="ScoringOptions.WaitBudget"/> for its priority), the one
    /// that spends the least energy; the others after them, soonest first token first.
    /// </summary>
    /// <remarks>
    /// A device that answers a little later for a fraction of the energy is the balanced choice;
    /// one that answers much later is not, however frugal. The slack is the priority's wait budget,
    /// the delay a request of that priority is allowed to take for the sake of the mode: a second
    /// or two for interactive work, more for best effort. Without a wait budget there is no slack:
    /// the fastest first token, least energy among equals.
    /// </remarks>
    /// <param name="batteryWeight">How much dearer this candidate's energy counts (<see cref="ScoringOptions.BatteryEnergyWeight"/> on a battery among mains-powered candidates, else 1).</param>
    private static double LeastEnergyWithinSlack(BackendSnapshot backend, in Estimate estimate, double fastestLatencyMs, in Inputs inputs, double batteryWeight) =>
        estimate.LatencyMs > fastestLatencyMs + (inputs.WaitBudgetMs ?? 0)
            ? OutsideSlackCost + estimate.LatencyMs
            : estimate.EnergyWh(backend.PowerWatts) * batteryWeight;
}
