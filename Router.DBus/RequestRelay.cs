using Router.Actors.Inference;
using Router.Actors.Routing;

namespace Router.DBus;

/// <summary>
/// The runtime takes one request observer, chosen before it starts; the D-Bus objects exist only
/// once it has. This stands in the chain from the start: it passes each request to the observer
/// that was there before (the metrics) and, once attached, to the D-Bus side.
/// </summary>
internal sealed class RequestRelay(IRequestObserver? next) : IRequestObserver
{
    private IRequestObserver? _target;

    public IRequestObserver? Target
    {
        get => Volatile.Read(ref _target);
        set => Volatile.Write(ref _target, value);
    }

    public void OnRequestFinished(RequestRecord record)
    {
        next?.OnRequestFinished(record);
        Target?.OnRequestFinished(record);
    }

    public void OnRequestRejected(RouteFailureKind kind, Priority priority)
    {
        next?.OnRequestRejected(kind, priority);
        Target?.OnRequestRejected(kind, priority);
    }
}
