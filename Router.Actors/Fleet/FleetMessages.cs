using System.Collections.Immutable;
using Akka.Actor;
using Router.Actors.Routing;

namespace Router.Actors.Fleet;

/// <summary>Messages that travel between fleet nodes; <see cref="FleetSerializer"/> writes them.</summary>
internal interface IFleetMessage;

/// <summary>
/// What one node shows the fleet: its own backends' snapshots (ids as it knows them), its power
/// state, its devices' temperatures, and where peers forward requests to. Published on the fleet's
/// topic whenever it changes and every publish interval.
/// </summary>
/// <param name="MemberAddress">The publishing member's Akka address (set when published).</param>
/// <param name="Sequence">Rises with each publication of one node incarnation, so receivers drop stale ones.</param>
internal sealed record NodeView(
    string Node,
    string MemberAddress,
    string HttpEndpoint,
    NodePowerState Power,
    ImmutableArray<BackendSnapshot> Backends,
    ImmutableDictionary<string, DeviceThermal> Thermal,
    long Sequence) : IFleetMessage;

/// <summary>Measures the round trip to a peer's member actor: it answers with a <see cref="FleetPong"/>.</summary>
internal sealed record FleetPing(long SentTimestamp) : IFleetMessage;

internal sealed record FleetPong(long SentTimestamp) : IFleetMessage;

// Messages between the fleet's two actors, in one process (never serialized).

/// <summary>This node's own view changed (the directory tells the member actor).</summary>
internal sealed record LocalNodeViewChanged(NodeView View);

/// <summary>A (new) member actor runs in a (new) fleet actor system.</summary>
internal sealed record FleetMemberStarted(IActorRef Member, string SelfAddress);

/// <summary>The fleet actor system ended (this node was downed, or is stopping).</summary>
internal sealed record FleetMemberStopped(string Reason);

/// <summary>How this node sees the fleet now; sent by the member actor after every change.</summary>
internal sealed record FleetPicture(string SelfAddress, string SelfStatus, ImmutableArray<FleetMemberInfo> Members);

/// <summary>One other member: its cluster state, whether this node reaches it, the round trip, and what it published.</summary>
internal sealed record FleetMemberInfo(string Address, string Status, bool Reachable, double? RoundTripMs, ImmutableArray<string> Roles, NodeView? View);

/// <summary>Asks the fleet directory for <see cref="FleetStatus"/>.</summary>
internal sealed class GetFleetStatus
{
    public static readonly GetFleetStatus Instance = new();
    private GetFleetStatus() { }
}

/// <summary>The fleet as <c>/cluster</c> and <c>ollama-proxy cluster</c> show it.</summary>
public sealed record FleetStatus(string Node, string? Address, string State, string? Note, ImmutableArray<FleetMemberStatus> Members);

/// <summary>One node of the fleet as this node sees it (this node included, marked <see cref="Self"/>).</summary>
public sealed record FleetMemberStatus(
    string? Node,
    string Address,
    string State,
    bool Reachable,
    double? RoundTripMs,
    bool Self,
    int Backends,
    string? HttpEndpoint,
    NodePowerState? Power,
    string? Note);
