using System.Collections.Immutable;
using System.Diagnostics;
using System.Threading.Channels;
using Router.Actors.Routing;
using Router.Gateway.Grpc.Contracts.Health;
using ServingStatus = Router.Gateway.Grpc.Contracts.Health.HealthCheckResponse.Types.ServingStatus;

namespace Router.Gateway.Grpc.Health;

/// <summary>
/// The serving status of the server ("") and of each service, for grpc.health.v1.Health. The host
/// updates it (<see cref="SetStatus"/>, or <see cref="UpdateFromBackends"/> whenever backend
/// snapshots change); Watch calls see every change.
/// </summary>
public sealed class HealthStatusTracker
{
    private readonly Lock _lock = new();
    private ImmutableDictionary<string, ServingStatus> _statuses = ImmutableDictionary<string, ServingStatus>.Empty.WithComparers(StringComparer.Ordinal);
    private ImmutableList<Watcher> _watchers = ImmutableList<Watcher>.Empty;

    /// <summary>The routing services, whose status follows the backends.</summary>
    public static readonly ImmutableArray<string> RoutingServices =
    [
        "compute.v1.ComputeService",
        "ollama_proxy.OllamaProxy",
    ];

    /// <summary>The status of <paramref name="service"/> ("" for the server), or null when unknown.</summary>
    public ServingStatus? GetStatus(string service) =>
        _statuses.TryGetValue(service ?? "", out var status) ? status : null;

    public void SetStatus(string service, ServingStatus status)
    {
        ArgumentNullException.ThrowIfNull(service);
        if (status is not (ServingStatus.Unknown or ServingStatus.Serving or ServingStatus.NotServing))
        {
            throw new ArgumentOutOfRangeException(nameof(status), status, "A service is UNKNOWN, SERVING or NOT_SERVING; SERVICE_UNKNOWN is Watch's answer for a service with no status.");
        }

        ImmutableList<Watcher> watchers;
        lock (_lock)
        {
            if (_statuses.TryGetValue(service, out var current) && current == status)
            {
                return;
            }

            _statuses = _statuses.SetItem(service, status);
            watchers = _watchers;
            AssertInvariants();
        }

        foreach (var watcher in watchers)
        {
            if (string.Equals(watcher.Service, service, StringComparison.Ordinal))
            {
                // Capacity 1, drop oldest: a slow watcher sees the latest status, never a backlog.
                watcher.Channel.Writer.TryWrite(status);
            }
        }
    }

    /// <summary>Sets a status only for a service that has none yet.</summary>
    public void SetStatusIfUnknown(string service, ServingStatus status)
    {
        ArgumentNullException.ThrowIfNull(service);
        lock (_lock)
        {
            if (_statuses.ContainsKey(service))
            {
                return;
            }
        }

        SetStatus(service, status);
    }

    /// <summary>
    /// The server and the routing services are SERVING while at least one backend is healthy or
    /// degraded, NOT_SERVING otherwise.
    /// </summary>
    public void UpdateFromBackends(ImmutableArray<BackendSnapshot> backends)
    {
        var serving = false;
        foreach (var backend in backends)
        {
            serving |= backend.Health is BackendHealth.Healthy or BackendHealth.Degraded;
        }

        var status = serving ? ServingStatus.Serving : ServingStatus.NotServing;
        SetStatus("", status);
        foreach (var service in RoutingServices)
        {
            SetStatus(service, status);
        }
    }

    /// <summary>Statuses are the spec's values; SERVICE_UNKNOWN is for Watch answers only, never stored.</summary>
    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(_lock.IsHeldByCurrentThread);
        foreach (var (_, status) in _statuses)
        {
            Debug.Assert(status is ServingStatus.Unknown or ServingStatus.Serving or ServingStatus.NotServing,
                $"stored status {status} is not one a server reports");
        }
    }

    /// <summary>Subscribes to changes of one service; dispose the result to stop.</summary>
    internal Watcher Watch(string service)
    {
        var watcher = new Watcher(this, service);
        lock (_lock)
        {
            _watchers = _watchers.Add(watcher);
        }

        return watcher;
    }

    private void Remove(Watcher watcher)
    {
        lock (_lock)
        {
            _watchers = _watchers.Remove(watcher);
        }
    }

    internal sealed class Watcher(HealthStatusTracker tracker, string service) : IDisposable
    {
        public string Service { get; } = service;

        public Channel<ServingStatus> Channel { get; } = System.Threading.Channels.Channel.CreateBounded<ServingStatus>(
            new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });

        public void Dispose() => tracker.Remove(this);
    }
}
