namespace Router.Actors.Routing;

/// <summary>
/// The routing-table publisher.s latest view — backend snapshots and system state — published for lock-free
/// reads. The publisher actor stays the only writer (it applies snapshots and state in order);
/// the request path reads the table and runs the pure scorer on its own thread, which saves the
/// two thread hops and the timer of an ask on every request.
/// </summary>
public sealed class RoutingTable
{
    private View _view;

    public RoutingTable(IReadOnlyList<BackendSnapshot> backends, SystemState state)
    {
        ArgumentNullException.ThrowIfNull(backends);
        _view = new View([.. backends], state);
    }

    /// <summary>Routes <paramref name="request"/> by the latest published view.</summary>
    public RouteOutcome Route(RouteRequest request, ScoringOptions options)
    {
        var view = Volatile.Read(ref _view);
        return Scorer.Route(request, view.Backends, view.State, options);
    }

    /// <summary>Called by the publisher after each change; the array is its own copy.</summary>
    internal void Publish(BackendSnapshot[] backends, SystemState state) =>
        Volatile.Write(ref _view, new View(backends, state));

    // Backends as an array: the scorer takes IReadOnlyList, and an array passes without boxing.
    private sealed record View(BackendSnapshot[] Backends, SystemState State);
}
