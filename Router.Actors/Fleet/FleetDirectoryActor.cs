using System.Collections.Frozen;
using System.Collections.Immutable;
using Akka.Actor;
using Akka.Event;
using Router.Actors.Backends;
using Router.Actors.Config;
using Router.Actors.Inference;
using Router.Actors.Routing;

namespace Router.Actors.Fleet;

/// <summary>
/// The fleet as the router's own actor system sees it. It turns this router's backend snapshots
/// and system state into the <see cref="NodeView"/> the member actor publishes, and the member
/// actor's <see cref="FleetPicture"/> into remote backends: a <see cref="ForwardingClient"/>, a
/// <see cref="RemoteBackendActor"/> child and a handle in the <see cref="BackendDirectory"/> per
/// backend of every reachable member, and their snapshots (with the node's round trip, power and
/// temperatures) for the routing table. A node that becomes unreachable or leaves is dropped
/// from routing at once, and the calls in flight to it end.
/// </summary>
internal sealed class FleetDirectoryActor : ReceiveActor, IWithTimers
{
    public const string Name = "fleet";

    /// <summary>A lost node's client is disposed this long after its calls were ended (they finish unwinding first).</summary>
    private static readonly TimeSpan DisposeDelay = TimeSpan.FromSeconds(5);

    private readonly FleetNodeSettings _settings;
    private readonly BackendDirectory _directory;
    private readonly IActorRef _routingTable;
    private readonly TimeProvider _time;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, BackendSnapshot> _local = new(StringComparer.Ordinal);
    private readonly List<string> _localOrder = [];
    private readonly Dictionary<string, RemoteBackend> _remote = new(StringComparer.Ordinal);
    private SystemState _state = SystemState.Default;
    private IActorRef? _member;
    private string? _selfAddress;
    private string _selfStatus = "starting";
    private string? _note;
    private FleetPicture? _picture;
    private ImmutableDictionary<string, string> _conflicts = ImmutableDictionary<string, string>.Empty;

    public FleetDirectoryActor(FleetNodeSettings settings, BackendDirectory directory, IActorRef routingTable, IEnumerable<BackendSnapshot> initial, TimeProvider time)
    {
        _settings = settings;
        _directory = directory;
        _routingTable = routingTable;
        _time = time;
        foreach (var snapshot in initial)
        {
            _local[snapshot.Id] = snapshot;
            _localOrder.Add(snapshot.Id);
        }

        Receive<BackendSnapshot>(snapshot =>
        {
            if (_local.TryGetValue(snapshot.Id, out var known) && snapshot.Version < known.Version)
            {
                return;
            }

            if (!_local.ContainsKey(snapshot.Id))
            {
                _localOrder.Add(snapshot.Id);
            }

            _local[snapshot.Id] = snapshot;
            SendView();
        });
        Receive<SystemState>(state =>
        {
            _state = state;
            SendView();
        });
        Receive<FleetMemberStarted>(started =>
        {
            _member = started.Member;
            _selfAddress = started.SelfAddress;
            _selfStatus = "joining";
            _note = null;
            SendView();
        });
        Receive<FleetMemberStopped>(stopped =>
        {
            _member = null;
            _selfStatus = "rejoining";
            _note = stopped.Reason;
            _picture = null;
            Apply(ImmutableArray<FleetMemberInfo>.Empty);
        });
        Receive<FleetPicture>(picture =>
        {
            if (_member is null)
            {
                return; // From a fleet system that has stopped since.
            }

            _picture = picture;
            _selfAddress = picture.SelfAddress;
            _selfStatus = picture.SelfStatus;
            Apply(picture.Members);
        });
        Receive<GetFleetStatus>(_ => Sender.Tell(Status()));
        Receive<DisposeClient>(d => d.Client.Dispose());
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Subscribes the directory to this router's own snapshots and state (by its creator, before anything publishes).</summary>
    public static void Subscribe(ActorSystem system, IActorRef directory)
    {
        system.EventStream.Subscribe(directory, typeof(BackendSnapshot));
        system.EventStream.Subscribe(directory, typeof(SystemState));
    }

    protected override void PostStop()
    {
        foreach (var remote in _remote.Values)
        {
            remote.Client.NodeLost("is no longer reachable from this router (stopping)");
            remote.Client.Dispose();
        }

        _remote.Clear();
        _directory.SetRemote(ImmutableDictionary.Create<string, BackendHandle>(StringComparer.Ordinal));
    }

    private void SendView() => _member?.Tell(new LocalNodeViewChanged(View()), Self);

    private NodeView View()
    {
        var backends = ImmutableArray.CreateBuilder<BackendSnapshot>(_localOrder.Count);
        foreach (var id in _localOrder)
        {
            backends.Add(_local[id]);
        }

        var hot = _state.Throttling || _state.ThermalByBackend.Values.Any(t => t.TemperatureC is { } c && c >= t.HotC);
        return new NodeView(_settings.NodeName, "", _settings.HttpEndpoint.ToString(),
            new NodePowerState(_state.OnAcPower, _state.BatteryPercent, hot),
            backends.DrainToImmutable(), _state.ThermalByBackend, 0);
    }

    /// <summary>Brings the remote backends in line with the reachable members' views.</summary>
    private void Apply(ImmutableArray<FleetMemberInfo> members)
    {
        var wanted = new Dictionary<string, (FleetMemberInfo Member, NodeView View, BackendSnapshot Snapshot)>(StringComparer.Ordinal);
        var owners = new Dictionary<string, string>(StringComparer.Ordinal) { [_settings.NodeName] = _selfAddress ?? "this node" };
        var conflicts = ImmutableDictionary.CreateBuilder<string, string>();
        foreach (var member in members.OrderBy(m => m.Address, StringComparer.Ordinal))
        {
            // An unreachable or departing member claims nothing: a restarted node (same name, new
            // address) takes its name over while its old incarnation waits to be downed.
            if (member.View is not { } view || !member.Reachable || member.Status is not ("up" or "weakly-up"))
            {
                continue;
            }

            if (owners.TryGetValue(view.Node, out var owner))
            {
                conflicts[member.Address] = $"node name '{view.Node}' is taken by {owner}: give each machine its own cluster.node-name";
                continue;
            }

            owners[view.Node] = member.Address;

            foreach (var backend in view.Backends)
            {
                wanted[view.Node + "/" + backend.Id] = (member, view, backend);
            }
        }

        foreach (var (address, message) in conflicts)
        {
            if (!_conflicts.ContainsKey(address))
            {
                _log.Error("Fleet member {0}: {1}", address, message);
            }
        }

        _conflicts = conflicts.ToImmutable();

        // Gone, unreachable, or moved to another address: end the calls in flight and drop the backend.
        foreach (var (id, remote) in _remote.ToList())
        {
            if (wanted.TryGetValue(id, out var still) && still.Member.Address == remote.MemberAddress && still.View.HttpEndpoint == remote.Endpoint)
            {
                continue;
            }

            var member = members.FirstOrDefault(m => m.Address == remote.MemberAddress);
            var reason = member is null ? "left the fleet" : !member.Reachable ? "became unreachable" : "changed";
            remote.Client.NodeLost(reason);
            remote.Actor.Tell(new CloseRemoteBackend($"node {remote.Node} {reason}"));
            Context.Stop(remote.Actor);
            Timers.StartSingleTimer(remote.Client, new DisposeClient(remote.Client), DisposeDelay);
            _remote.Remove(id);
        }

        var snapshots = ImmutableArray.CreateBuilder<BackendSnapshot>(wanted.Count);
        var changed = false;
        foreach (var (id, (member, view, backend)) in wanted)
        {
            if (!_remote.ContainsKey(id))
            {
                _remote[id] = Create(id, member, view, backend);
                changed = true;
            }

            snapshots.Add(backend with
            {
                Id = id,
                Node = view.Node,
                NetworkRoundTripMs = member.RoundTripMs ?? 0,
                NodePower = view.Power,
                Thermal = view.Thermal.GetValueOrDefault(backend.Id),
            });
        }

        if (changed || _remote.Count != _directory.Remote.Count)
        {
            _directory.SetRemote(_remote.ToImmutableDictionary(r => r.Key, r => r.Value.Handle, StringComparer.Ordinal));
        }

        // After the handles: a backend in the table always has one (a withdrawn one is skipped by the router).
        _routingTable.Tell(new RemoteBackendsChanged(snapshots.DrainToImmutable()));
    }

    private RemoteBackend Create(string id, FleetMemberInfo member, NodeView view, BackendSnapshot backend)
    {
        var endpoint = new Uri(view.HttpEndpoint);
        var client = new ForwardingClient(id, view.Node, backend.Id, backend.Type, endpoint, _settings.SharedSecret, _time);
        var slots = new BackendSlots();
        var config = new BackendConfig
        {
            Id = id,
            Name = backend.Name,
            Type = backend.Type,
            Hardware = backend.Hardware,
            Endpoint = endpoint,
            PowerWatts = backend.PowerWatts,
            AvgLatencyMs = backend.AvgLatencyMs,
            MaxConcurrent = backend.MaxConcurrent,
        };
        var actor = Context.ActorOf(Props.Create(() => new RemoteBackendActor(id, slots)), ChildName(view.Node, backend.Id));
        _log.Info("Fleet backend {0} joined routing (node {1} at {2})", id, view.Node, member.Address);
        return new RemoteBackend(view.Node, member.Address, view.HttpEndpoint, client, actor, new BackendHandle(config, client, slots));
    }

    /// <summary><c>node:backend</c>, escaped for an actor name; a suffix while a predecessor of the same name is still stopping.</summary>
    private static string ChildName(string node, string backend)
    {
        var name = Uri.EscapeDataString(node + ":" + backend).Replace("%3A", ":", StringComparison.Ordinal);
        var candidate = name;
        for (var n = 2; !Context.Child(candidate).IsNobody(); n++)
        {
            candidate = name + "~" + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return candidate;
    }

    private FleetStatus Status()
    {
        var members = ImmutableArray.CreateBuilder<FleetMemberStatus>();
        var backendsByNode = _remote.Values.GroupBy(r => r.Node).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        members.Add(new FleetMemberStatus(_settings.NodeName, _selfAddress ?? "", _selfStatus, true, 0, true, _local.Count,
            _settings.HttpEndpoint.ToString(), View().Power, _note));
        foreach (var member in _picture?.Members ?? [])
        {
            var node = member.View?.Node;
            members.Add(new FleetMemberStatus(node, member.Address, member.Status, member.Reachable, member.RoundTripMs, false,
                node is not null && backendsByNode.TryGetValue(node, out var count) ? count : 0,
                member.View?.HttpEndpoint, member.View?.Power, _conflicts.GetValueOrDefault(member.Address)));
        }

        return new FleetStatus(_settings.NodeName, _selfAddress, _selfStatus, _note, members.ToImmutable());
    }

    private sealed record RemoteBackend(string Node, string MemberAddress, string Endpoint, ForwardingClient Client, IActorRef Actor, BackendHandle Handle);

    private sealed record DisposeClient(ForwardingClient Client);
}

/// <summary>What a node needs to know about itself to take part in the fleet.</summary>
internal sealed record FleetNodeSettings(string NodeName, Uri HttpEndpoint, string SharedSecret);
