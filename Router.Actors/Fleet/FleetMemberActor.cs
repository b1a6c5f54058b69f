using System.Collections.Immutable;
using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Event;

namespace Router.Actors.Fleet;

/// <summary>
/// This node's member of the fleet, in the fleet's actor system. It publishes this node's view on
/// the fleet's Distributed Pub/Sub topic (on change, coalesced, and every publish interval), keeps
/// the latest view of every other member, follows membership and reachability from Akka.Cluster,
/// measures the round trip to each member, and tells the fleet directory (in the router's actor
/// system) how the fleet looks after every change.
/// </summary>
internal sealed class FleetMemberActor : ReceiveActor, IWithTimers
{
    public const string Name = "fleet-member";

    /// <summary>The Distributed Pub/Sub topic every node publishes its view on.</summary>
    public const string Topic = "ollama-proxy-fleet-views";

    /// <summary>A change is published this long after it happened, with whatever followed it: under load snapshots change per request.</summary>
    private static readonly TimeSpan Coalesce = TimeSpan.FromMilliseconds(50);

    /// <summary>Weight of a new round-trip sample in the moving average.</summary>
    private const double RoundTripSmoothing = 0.3;

    private readonly IActorRef _directory;
    private readonly TimeSpan _publishInterval;
    private readonly TimeSpan _roundTripInterval;
    private readonly Cluster _cluster;
    private readonly IActorRef _mediator;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<Address, Member> _members = [];
    private readonly HashSet<Address> _unreachable = [];
    private readonly Dictionary<Address, NodeView> _views = [];
    private readonly Dictionary<Address, double> _roundTrips = [];
    private NodeView? _local;
    private long _sequence;
    private bool _publishPending;
    private string _selfStatus = "joining";

    public FleetMemberActor(IActorRef directory, TimeSpan publishInterval, TimeSpan roundTripInterval)
    {
        _directory = directory;
        _publishInterval = publishInterval;
        _roundTripInterval = roundTripInterval;
        _cluster = Cluster.Get(Context.System);
        _mediator = DistributedPubSub.Get(Context.System).Mediator;

        Receive<LocalNodeViewChanged>(changed =>
        {
            _local = changed.View;
            if (!_publishPending)
            {
                _publishPending = true;
                Timers.StartSingleTimer(PublishNow.Instance, PublishNow.Instance, Coalesce);
            }
        });
        Receive<PublishNow>(_ =>
        {
            _publishPending = false;
            Publish();
        });
        Receive<PublishTick>(_ => Publish());
        Receive<NodeView>(OnView);
        Receive<SubscribeAck>(_ => Publish());
        Receive<ClusterEvent.IMemberEvent>(OnMemberEvent);
        Receive<ClusterEvent.UnreachableMember>(e =>
        {
            _log.Warning("Fleet member {0} is unreachable: its backends leave routing until it answers again", e.Member.Address);
            _unreachable.Add(e.Member.Address);
            Report();
        });
        Receive<ClusterEvent.ReachableMember>(e =>
        {
            _unreachable.Remove(e.Member.Address);
            Report();
            Publish();
        });
        Receive<PingTick>(_ => Ping());
        Receive<FleetPing>(ping => Sender.Tell(new FleetPong(ping.SentTimestamp)));
        Receive<FleetPong>(OnPong);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PreStart()
    {
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));
        _mediator.Tell(new Subscribe(Topic, Self));
        Timers.StartPeriodicTimer(PublishTick.Instance, PublishTick.Instance, _publishInterval);
        Timers.StartPeriodicTimer(PingTick.Instance, PingTick.Instance, _roundTripInterval);
        Report();
    }

    protected override void PostStop() => _cluster.Unsubscribe(Self);

    private void OnMemberEvent(ClusterEvent.IMemberEvent e)
    {
        var member = e.Member;
        if (member.Address == _cluster.SelfAddress)
        {
            _selfStatus = StatusName(member.Status, e is ClusterEvent.MemberRemoved);
            if (member.Status == MemberStatus.Up)
            {
                Publish();
            }

            Report();
            return;
        }

        if (e is ClusterEvent.MemberRemoved)
        {
            _log.Info("Fleet member {0} was removed ({1} backends leave routing)", member.Address, _views.TryGetValue(member.Address, out var gone) ? gone.Backends.Length : 0);
            _members.Remove(member.Address);
            _unreachable.Remove(member.Address);
            _views.Remove(member.Address);
            _roundTrips.Remove(member.Address);
        }
        else
        {
            _members[member.Address] = member;
            if (e is ClusterEvent.MemberUp)
            {
                // Greets the newcomer: it needs every view, not only the next change.
                Publish();
                PingOne(member.Address);
            }
        }

        Report();
    }

    private void OnView(NodeView view)
    {
        Address from;
        try
        {
            from = Address.Parse(view.MemberAddress);
        }
        catch (UriFormatException)
        {
            _log.Warning("Ignored a fleet view from {0} with the invalid member address '{1}'", view.Node, view.MemberAddress);
            return;
        }

        if (from == _cluster.SelfAddress)
        {
            return;
        }

        // Only members this node knows, so a removed node's late message cannot bring it back.
        if (!_members.ContainsKey(from))
        {
            return;
        }

        if (_views.TryGetValue(from, out var known) && known.Sequence >= view.Sequence)
        {
            return;
        }

        _views[from] = view;
        Report();
    }

    private void Publish()
    {
        if (_local is not { } local || _selfStatus is not ("up" or "weakly-up"))
        {
            return;
        }

        _mediator.Tell(new Publish(Topic, local with { MemberAddress = _cluster.SelfAddress.ToString(), Sequence = ++_sequence }));
    }

    private void Ping()
    {
        foreach (var (address, member) in _members)
        {
            if (member.Status == MemberStatus.Up && !_unreachable.Contains(address))
            {
                PingOne(address);
            }
        }
    }

    private void PingOne(Address address) =>
        Context.ActorSelection(new RootActorPath(address) / "user" / Name).Tell(new FleetPing(Stopwatch.GetTimestamp()), Self);

    private void OnPong(FleetPong pong)
    {
        var from = Sender.Path.Address;
        if (!_members.ContainsKey(from))
        {
            return;
        }

        var sample = Stopwatch.GetElapsedTime(pong.SentTimestamp).TotalMilliseconds;
        var smoothed = _roundTrips.TryGetValue(from, out var previous) ? previous + (RoundTripSmoothing * (sample - previous)) : sample;
        _roundTrips[from] = smoothed;
        // Round trips change routing only a little; a report per ping would republish the table every interval for nothing.
        if (previous == 0 || Math.Abs(smoothed - previous) > Math.Max(0.2, previous * 0.2))
        {
            Report();
        }
    }

    private void Report()
    {
        var members = ImmutableArray.CreateBuilder<FleetMemberInfo>(_members.Count);
        foreach (var (address, member) in _members)
        {
            members.Add(new FleetMemberInfo(
                address.ToString(),
                StatusName(member.Status, removed: false),
                !_unreachable.Contains(address),
                _roundTrips.TryGetValue(address, out var rtt) ? rtt : null,
                [.. member.Roles],
                _views.GetValueOrDefault(address)));
        }

        _directory.Tell(new FleetPicture(_cluster.SelfAddress.ToString(), _selfStatus, members.DrainToImmutable()));
    }

    internal static string StatusName(MemberStatus status, bool removed) => removed ? "removed" : status switch
    {
        MemberStatus.Joining => "joining",
        MemberStatus.WeaklyUp => "weakly-up",
        MemberStatus.Up => "up",
        MemberStatus.Leaving => "leaving",
        MemberStatus.Exiting => "exiting",
        MemberStatus.Down => "down",
        MemberStatus.Removed => "removed",
        _ => status.ToString().ToLowerInvariant(),
    };

    private sealed class PublishNow
    {
        public static readonly PublishNow Instance = new();
    }

    private sealed class PublishTick
    {
        public static readonly PublishTick Instance = new();
    }

    private sealed class PingTick
    {
        public static readonly PingTick Instance = new();
    }
}
