namespace Router.Actors.Routing;

/// <summary>
/// The four priority levels shared by the priority mailbox and request routing.
/// The numeric values are part of the public contract (headers, gRPC, WebSocket accept 0–3).
/// </summary>
public enum Priority
{
    BestEffort = 0,
    Normal = 1,
    High = 2,
    Critical = 3,
}
