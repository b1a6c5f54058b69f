namespace Router.Actors.Routing;

public static partial class Scorer
{
    /// <summary>Added to the cost of a candidate whose queue wait is over the request's wait budget, so any candidate within it wins.</summary>
    private const double OverWaitBudgetCost = 1e12;

    /// <summary>
    /// Rule "wait budget" (every mode): a candidate whose expected queue wait at the request's
    /// priority is over <see cref="ScoringOptions.WaitBudget"/> for that priority comes after every
    /// candidate within it, whatever the mode prefers. Among candidates over the budget, the one
    /// expected to give the first token soonest comes first: once nothing can start within the
    /// budget, waiting least is all that is left to prefer.
    /// </summary>
    /// <remarks>
    /// Efficiency, Quiet and Balanced rank by power or energy, which a queue does not change: left
    /// alone they pile work onto the most frugal device while a faster one within the mode's caps
    /// sits idle. The budget is soft: the request is still served when every candidate is over it
    /// (routing.max-queue-wait is the hard bound a queued request moves on at).
    /// </remarks>
    /// <param name="cost">The mode's cost, heat and health penalties included.</param>
    private static double WithWaitBudget(double cost, double heatAndHealth, in Estimate estimate, in Inputs inputs) =>
        inputs.WaitBudgetMs is { } budget && estimate.WaitMs > budget
            ? OverWaitBudgetCost + (estimate.LatencyMs * heatAndHealth)
            : cost;
}
