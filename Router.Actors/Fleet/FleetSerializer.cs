using System.Runtime.Serialization;
using System.Text.Json;
using Akka.Actor;
using Akka.Serialization;

namespace Router.Actors.Fleet;

/// <summary>
/// Writes the messages fleet nodes exchange as JSON (System.Text.Json), each under a short
/// manifest. Only these types cross the network: nothing else is bound to a serializer a peer
/// could feed arbitrary types through.
/// </summary>
internal sealed class FleetSerializer : SerializerWithStringManifest
{
    private const string ViewManifest = "view";
    private const string PingManifest = "ping";
    private const string PongManifest = "pong";

    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.General)
    {
        // Akka's own may be larger; this names the fleet's messages in logs and dumps.
        WriteIndented = false,
    };

    public FleetSerializer(ExtendedActorSystem system)
        : base(system)
    {
    }

    /// <summary>Unique among the serializers of the fleet's actor system (Akka reserves 0-40).</summary>
    public override int Identifier => 4180;

    public override string Manifest(object o) => o switch
    {
        NodeView => ViewManifest,
        FleetPing => PingManifest,
        FleetPong => PongManifest,
        _ => throw new ArgumentException($"{o.GetType()} is not a fleet message", nameof(o)),
    };

    public override byte[] ToBinary(object obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        return obj switch
        {
            NodeView view => JsonSerializer.SerializeToUtf8Bytes(Normalized(view), Options),
            FleetPing ping => JsonSerializer.SerializeToUtf8Bytes(ping, Options),
            FleetPong pong => JsonSerializer.SerializeToUtf8Bytes(pong, Options),
            _ => throw new ArgumentException($"{obj.GetType()} is not a fleet message", nameof(obj)),
        };
    }

    public override object FromBinary(byte[] bytes, string manifest) => manifest switch
    {
        ViewManifest => JsonSerializer.Deserialize<NodeView>(bytes, Options) ?? throw new SerializationException("an empty node view"),
        PingManifest => JsonSerializer.Deserialize<FleetPing>(bytes, Options) ?? throw new SerializationException("an empty ping"),
        PongManifest => JsonSerializer.Deserialize<FleetPong>(bytes, Options) ?? throw new SerializationException("an empty pong"),
        _ => throw new SerializationException($"unknown fleet message manifest '{manifest}'"),
    };

    /// <summary>A default immutable array cannot be written: the snapshots' optional arrays become empty ones.</summary>
    private static NodeView Normalized(NodeView view) => view with
    {
        Backends = view.Backends.IsDefault ? [] : [.. view.Backends.Select(b => b with
        {
            InFlightByPriority = b.InFlightByPriority.IsDefault ? [] : b.InFlightByPriority,
            QueueDepthByPriority = b.QueueDepthByPriority.IsDefault ? [] : b.QueueDepthByPriority,
            QueueLimitByPriority = b.QueueLimitByPriority.IsDefault ? [] : b.QueueLimitByPriority,
        })],
    };
}
