
namespace Router.Actors.Routing;

/// <summary>
/// What a request says it needs. Every surface (HTTP headers, WebSocket fields, gRPC annotations)
/// parses into this one type, so routing behaves the same whichever way a request arrives.
/// </summary>
public sealed record RoutingHints
{
    public static readonly RoutingHints Default = new();

    /// <summary>A backend id (<c>ollama-npu</c>) or a hardware kind (<c>npu</c>, <c>igpu</c>, <c>nvidia</c>, <c>cpu</c>).</summary>
    public string? Target { get; init; }
    public bool LatencyCritical { get; init; }
    public bool PreferPowerEfficiency { get; init; }
    public int? MaxLatencyMs { get; init; }
    public double? MaxPowerWatts { get; init; }
    public Priority Priority { get; init; } = Priority.Normal;
    public string? MediaType { get; init; }
    public string? RequestId { get; init; }
    /// <summary>
    /// Only this router's own backends may serve the request: a fleet peer forwarded it here (the
    /// hop header), and a request is never forwarded twice.
    /// </summary>
    public bool LocalOnly { get; init; }
}
