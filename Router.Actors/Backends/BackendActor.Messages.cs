using Router.Actors.Routing;
using Router.Actors.Runtime;

namespace Router.Actors.Backends;

/// <summary>Asks a backend actor for its current snapshot (answered with a <see cref="BackendSnapshot"/>).</summary>
public sealed class GetBackendSnapshot : IPriorityMessage
{
    public static readonly GetBackendSnapshot Instance = new();
    private GetBackendSnapshot() { }
    public Priority Priority => Priority.High;
}

/// <summary>Triggers a health probe now (also sent by the actor's own schedule).</summary>
public sealed class ProbeNow : IPriorityMessage
{
    public static readonly ProbeNow Instance = new();
    private ProbeNow() { }
    public Priority Priority => Priority.High;
}

/// <summary>Triggers a model list refresh now.</summary>
public sealed class RefreshModels : IPriorityMessage
{
    public static readonly RefreshModels Instance = new();
    private RefreshModels() { }
    public Priority Priority => Priority.High;
}

/// <summary>The actor's note to itself to publish its snapshot once the burst in its mailbox is handled.</summary>
internal sealed class PublishSnapshot : IPriorityMessage
{
    public static readonly PublishSnapshot Instance = new();
    private PublishSnapshot() { }
    // Behind the grants and releases already queued on the same lane, so they share one snapshot.
    public Priority Priority => Priority.Critical;
}

internal sealed record ProbeCompleted(long Generation, BackendError? Error, TimeSpan Latency) : IPriorityMessage
{
    public Priority Priority => Priority.High;
}

internal sealed record ModelsRefreshed(System.Collections.Immutable.ImmutableArray<BackendModel> Models, BackendError? Error) : IPriorityMessage
{
    public Priority Priority => Priority.High;
}

internal sealed class EjectionExpired : IPriorityMessage
{
    public static readonly EjectionExpired Instance = new();
    private EjectionExpired() { }
    public Priority Priority => Priority.High;
}

/// <summary>
/// A request's call failed here with an answer (a 500 with a body) and was released as not the
/// backend's fault until its next attempt elsewhere could tell: that attempt succeeded or failed
/// otherwise, so the failure was this backend's after all and counts against its health now.
/// </summary>
internal sealed class CallFailureConfirmed : IPriorityMessage
{
    public static readonly CallFailureConfirmed Instance = new();
    private CallFailureConfirmed() { }
    public Priority Priority => Priority.Critical;
}

/// <summary>Published on the event stream when a backend's health changes, with the reason.</summary>
public sealed record BackendHealthChanged(string BackendId, BackendHealth From, BackendHealth To, string Reason);
