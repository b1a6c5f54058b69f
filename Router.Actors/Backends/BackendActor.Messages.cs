using Akka.Event;
using Router.Actors.Routing;

namespace Router.Actors.Backends;

/// <summary>Asks a backend actor for its current snapshot (answered with a <see cref="BackendSnapshot"/>).</summary>
public sealed class GetBackendSnapshot
{
    public static readonly GetBackendSnapshot Instance = new();
    private GetBackendSnapshot() { }
}

/// <summary>Triggers a health probe now (also sent by the actor's own timer).</summary>
public sealed class ProbeNow
{
    public static readonly ProbeNow Instance = new();
    private ProbeNow() { }
}

/// <summary>Triggers a model list refresh now.</summary>
public sealed class RefreshModels
{
    public static readonly RefreshModels Instance = new();
    private RefreshModels() { }
}

/// <summary>The actor's note to itself to publish its snapshot once the burst in its mailbox is handled.</summary>
internal sealed class PublishSnapshot
{
    public static readonly PublishSnapshot Instance = new();
    private PublishSnapshot() { }
}

internal sealed record ProbeCompleted(long Generation, BackendError? Error, TimeSpan Latency);

internal sealed record ModelsRefreshed(System.Collections.Immutable.ImmutableArray<BackendModel> Models, BackendError? Error);

internal sealed class EjectionExpired
{
    public static readonly EjectionExpired Instance = new();
    private EjectionExpired() { }
}

/// <summary>Another stretch of <c>health.ejection-decay</c> passed without an ejection.</summary>
internal sealed class EjectionDecayed
{
    public static readonly EjectionDecayed Instance = new();
    private EjectionDecayed() { }
}

/// <summary>
/// A request's call failed here with an answer (a 500 with a body) and was released as not the
/// backend's fault until its next attempt elsewhere could tell: that attempt succeeded or failed
/// otherwise, so the failure was this backend's after all and counts against its health now.
/// Sent to the incarnation that served the call: after a restart it is moot, so undelivered it
/// is no dead letter worth reporting.
/// </summary>
internal sealed class CallFailureConfirmed : IDeadLetterSuppression
{
    public static readonly CallFailureConfirmed Instance = new();
    private CallFailureConfirmed() { }
}

/// <summary>Published on the event stream when a backend's health changes, with the reason.</summary>
public sealed record BackendHealthChanged(string BackendId, BackendHealth From, BackendHealth To, string Reason);
