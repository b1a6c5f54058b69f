using System.Collections.Immutable;
using Router.Actors.Runtime;

namespace Router.Actors.Routing;

/// <summary>Asks the selector for a decision; answered with a <see cref="RouteOutcome"/>.</summary>
public sealed record Route(RouteRequest Request) : IPriorityMessage
{
    public Priority Priority => Request.Hints.Priority;
}

/// <summary>Asks the selector what it knows; answered with a <see cref="SelectorView"/>.</summary>
public sealed class GetSelectorView
{
    public static readonly GetSelectorView Instance = new();
    private GetSelectorView() { }
}

/// <summary>The backends and system state the selector routes by.</summary>
public sealed record SelectorView(ImmutableArray<BackendSnapshot> Backends, SystemState State);

/// <summary>
/// Keeps the latest backend snapshots and system state (both pushed to it on the event stream,
/// never polled per request) and answers <see cref="Route"/> with the pure scorer's decision.
/// </summary>
public sealed class SelectorActor : ReceiveActor
{
    private readonly ScoringOptions _options;
    // Backends in configuration order; the scorer reads this array directly.
    private BackendSnapshot[] _backends;
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    private SystemState _state;
    private readonly RoutingTable? _table;

    /// <param name="table">Where each new view is published for inline routing; optional.</param>
    public SelectorActor(IReadOnlyList<BackendSnapshot> initial, SystemState state, ScoringOptions options, RoutingTable? table = null)
    {
        ArgumentNullException.ThrowIfNull(initial);
        _options = options;
        _state = state;
        _table = table;
        _backends = new BackendSnapshot[initial.Count];
        for (var i = 0; i < initial.Count; i++)
        {
            _backends[i] = initial[i];
            _index[initial[i].Id] = i;
        }

        Receive<Route>(m => Sender.Tell(Scorer.Route(m.Request, _backends, _state, _options)));
        Receive<BackendSnapshot>(OnSnapshot);
        Receive<SystemState>(s =>
        {
            _state = s;
            PublishTable();
        });
        Receive<GetSelectorView>(_ => Sender.Tell(new SelectorView(ImmutableArray.Create(_backends), _state)));
    }

    protected override void PreStart()
    {
        Context.System.EventStream.Subscribe<BackendSnapshot>(Self);
        Context.System.EventStream.Subscribe<SystemState>(Self);
    }

    private void OnSnapshot(BackendSnapshot snapshot)
    {
        if (!_index.TryGetValue(snapshot.Id, out var i))
        {
            return; // Not a backend this router was configured with.
        }

        // Snapshots may arrive out of order across threads; keep the newest.
        if (snapshot.Version >= _backends[i].Version)
        {
            _backends[i] = snapshot;
            PublishTable();
        }
    }

    // Copy on publish: readers keep the array they got while the actor goes on changing its own.
    private void PublishTable() => _table?.Publish((BackendSnapshot[])_backends.Clone(), _state);
}
