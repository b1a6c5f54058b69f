using System.Diagnostics.CodeAnalysis;
using Akka.Actor;

namespace Router.Actors.Fleet;

/// <summary>How fleet nodes are addressed: one actor system name, <c>host:port</c> seeds.</summary>
public static class FleetAddresses
{
    /// <summary>The fleet's actor system, the same on every node (Akka.Cluster joins systems of one name).</summary>
    public const string SystemName = "ollama-proxy-fleet";

    /// <summary>The member actor's path on every node, for the round-trip pings.</summary>
    public const string MemberPath = "/user/" + FleetMemberActor.Name;

    /// <summary>
    /// The protocol of remoting's addresses: Akka names TLS remoting <c>akka.ssl.tcp</c>, and a node
    /// only reaches peers under its own protocol.
    /// </summary>
    public static string Protocol(bool tls) => tls ? "akka.ssl.tcp" : "akka.tcp";

    /// <summary>
    /// Reads a seed written as <c>host:port</c> or as a full <c>akka.tcp://ollama-proxy-fleet@host:port</c>
    /// (or <c>akka.ssl.tcp://…</c>), as an address under this node's protocol: with TLS on, every
    /// peer is reached over TLS, whichever way its seed was written.
    /// </summary>
    public static bool TryParseSeed(string text, bool tls, [NotNullWhen(true)] out Address? address, [NotNullWhen(false)] out string? problem)
    {
        ArgumentNullException.ThrowIfNull(text);
        address = null;
        var trimmed = text.Trim();
        if (trimmed.Contains("://", StringComparison.Ordinal))
        {
            try
            {
                address = Address.Parse(trimmed);
            }
            catch (UriFormatException e)
            {
                problem = e.Message;
                return false;
            }

            if (address.Protocol is not ("akka.tcp" or "akka.ssl.tcp") || address.System != SystemName || address.Host is null || address.Port is null)
            {
                problem = $"a fleet address reads {Protocol(tls)}://{SystemName}@host:port";
                address = null;
                return false;
            }

            address = new Address(Protocol(tls), SystemName, address.Host, address.Port);
            problem = null;
            return true;
        }

        var colon = trimmed.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(trimmed.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port)
            || port is < 1 or > 65535)
        {
            problem = "expected host:port with a port from 1 to 65535";
            return false;
        }

        var host = trimmed[..colon].Trim('[', ']');
        if (host.Length == 0)
        {
            problem = "the host is empty";
            return false;
        }

        address = new Address(Protocol(tls), SystemName, host, port);
        problem = null;
        return true;
    }
}
