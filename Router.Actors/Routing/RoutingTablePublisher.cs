using System.Collections.Immutable;
using Akka.Actor;

namespace Router.Actors.Routing;

/// <summary>Asks the publisher what it knows; answered with a <see cref="RoutingView"/>.</summary>
public sealed class GetRoutingView
{
    public static readonly GetRoutingView Instance = new();
    private GetRoutingView() { }
}

/// <summary>
/// The fleet's backends as this node sees them now (every remote backend, replacing the previous
/// set); sent by the fleet, never published on the event stream.
/// </summary>
public sealed record RemoteBackendsChanged(ImmutableArray<BackendSnapshot> Backends);

/// <summary>The backends and system state requests are routed by.</summary>
public sealed record RoutingView(ImmutableArray<BackendSnapshot> Backends, SystemState State);

/// <summary>
/// Collects the backend snapshots and the system state (both pushed to it on the event stream,
/// never polled per request) and publishes each new view as an immutable <see cref="RoutingTable"/>
/// that requests score against inline, on their own threads. The only writer of the table, so
/// snapshots and state apply in the order they were published.
/// </summary>
public sealed class RoutingTablePublisher : ReceiveActor
{
    public const string Name = "routing-table";

    // Backends in configuration order; the scorer reads a copy of this array.
    private readonly BackendSnapshot[] _backends;
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    private readonly RoutingTable _table;
    private SystemState _state;
    // The fleet's backends, after this router's own in every published table.
    private ImmutableArray<BackendSnapshot> _remote = ImmutableArray<BackendSnapshot>.Empty;

    public RoutingTablePublisher(IReadOnlyList<BackendSnapshot> initial, SystemState state, RoutingTable table)
    {
        ArgumentNullException.ThrowIfNull(initial);
        ArgumentNullException.ThrowIfNull(table);
        _state = state;
        _table = table;
        _backends = new BackendSnapshot[initial.Count];
        for (var i = 0; i < initial.Count; i++)
        {
            _backends[i] = initial[i];
            _index[initial[i].Id] = i;
        }

        Receive<BackendSnapshot>(OnSnapshot);
        Receive<SystemState>(s =>
        {
            _state = s;
            Publish();
        });
        Receive<RemoteBackendsChanged>(m =>
        {
            _remote = m.Backends.IsDefault ? ImmutableArray<BackendSnapshot>.Empty : m.Backends;
            Publish();
            // The fleet tells this actor directly (from its own actor system); surfaces outside
            // routing (D-Bus) follow the router's event stream, so the news goes on there.
            Context.System.EventStream.Publish(new RemoteBackendsChanged(_remote));
        });
        Receive<GetRoutingView>(_ => Sender.Tell(new RoutingView(ImmutableArray.Create(_backends).AddRange(_remote), _state)));
    }

    /// <summary>
    /// Subscribes <paramref name="publisher"/> to what it routes by. Done by its creator, not in
    /// PreStart: the backends probe as soon as they exist, and on a loaded machine a first snapshot
    /// could be published before the publisher starts, leaving that backend unknown to routing
    /// until its next probe.
    /// </summary>
    public static void Subscribe(ActorSystem system, IActorRef publisher)
    {
        ArgumentNullException.ThrowIfNull(system);
        system.EventStream.Subscribe(publisher, typeof(BackendSnapshot));
        system.EventStream.Subscribe(publisher, typeof(SystemState));
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
            Publish();
        }
    }

    // Copy on publish: readers keep the array they got while the actor goes on changing its own.
    private void Publish()
    {
        if (_remote.IsEmpty)
        {
            _table.Publish((BackendSnapshot[])_backends.Clone(), _state);
            return;
        }

        var all = new BackendSnapshot[_backends.Length + _remote.Length];
        _backends.CopyTo(all, 0);
        _remote.CopyTo(all, _backends.Length);
        _table.Publish(all, _state);
    }
}
