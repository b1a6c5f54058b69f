namespace Router.Actors.Fleet;

/// <summary>The HTTP headers between fleet nodes and towards clients.</summary>
public static class FleetHeaders
{
    /// <summary>On a request a peer forwarded: serve it here, never forward it again.</summary>
    public const string Hop = "X-Ollama-Proxy-Hop";

    /// <summary>The fleet's shared secret, on every forwarded request.</summary>
    public const string Secret = "X-Ollama-Proxy-Secret";

    /// <summary>On an answer a fleet peer served: the node that served it.</summary>
    public const string BackendNode = "X-Backend-Node";

    /// <summary>The node of a backend id (<c>node/backend</c>), or null for one of this router's own.</summary>
    public static string? NodeOf(string backendId)
    {
        ArgumentNullException.ThrowIfNull(backendId);
        var slash = backendId.IndexOf('/', StringComparison.Ordinal);
        return slash > 0 ? backendId[..slash] : null;
    }
}
