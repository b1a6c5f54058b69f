using Router.Actors.Backends;

namespace Router.Actors.Routing;

/// <summary>What the scorer answers: a decision or, when nothing can serve the request, a failure saying why.</summary>
public readonly struct RouteOutcome
{
    private RouteOutcome(RoutingDecision? decision, RouteFailure? failure)
    {
        Decision = decision;
        Failure = failure;
    }

    /// <summary>Set when the request was routed.</summary>
    public RoutingDecision? Decision { get; }

    /// <summary>Set when it was not.</summary>
    public RouteFailure? Failure { get; }

    public bool IsRouted => Decision is not null;

    public static RouteOutcome Routed(RoutingDecision decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        return new RouteOutcome(decision, null);
    }

    public static RouteOutcome Failed(RouteFailure failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        return new RouteOutcome(null, failure);
    }

    public static implicit operator RouteOutcome(RoutingDecision decision) => Routed(decision);

    public static implicit operator RouteOutcome(RouteFailure failure) => Failed(failure);

    /// <summary>The same outcome as the <see cref="Result{TValue, TError}"/> the inference contracts use.</summary>
    public Result<RoutingDecision, RouteFailure> ToResult() =>
        Decision is { } decision ? Result<RoutingDecision, RouteFailure>.Ok(decision) : Result<RoutingDecision, RouteFailure>.Fail(Failure!);

    public override string ToString() => Decision?.ToString() ?? Failure?.ToString() ?? "(empty)";
}
