using System.Collections.Immutable;
using Grpc.HealthCheck;
using Router.Actors.Routing;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Router.Gateway.Grpc.Health;

/// <summary>
/// What grpc.health.v1.Health (Grpc.HealthCheck's <see cref="HealthServiceImpl"/>) answers: every
/// service of the surface is known from the start; the server as a whole ("") and the routing
/// services follow the backends, SERVING only while some backend can serve.
/// </summary>
internal sealed class GrpcHealthStatus
{
    /// <summary>The services whose status follows the backends, besides the server as a whole ("").</summary>
    public static readonly ImmutableArray<string> RoutingServices =
    [
        Contracts.Compute.ComputeService.Descriptor.FullName,
        Contracts.OllamaProxy.OllamaProxy.Descriptor.FullName,
    ];

    /// <summary>Services that answer whatever the backends do.</summary>
    public static readonly ImmutableArray<string> IndependentServices =
    [
        Contracts.Compute.EfficiencyService.Descriptor.FullName,
        global::Grpc.Health.V1.Health.Descriptor.FullName,
        global::Grpc.Reflection.V1.ServerReflection.Descriptor.FullName,
        global::Grpc.Reflection.V1Alpha.ServerReflection.Descriptor.FullName,
    ];

    private readonly HealthServiceImpl _health;
    private readonly Lock _lock = new();

    public GrpcHealthStatus(HealthServiceImpl health)
    {
        ArgumentNullException.ThrowIfNull(health);
        _health = health;
        // Serving until the backends are heard from: the host seeds them as soon as it starts.
        SetRouting(ServingStatus.Serving);
        foreach (var service in IndependentServices)
        {
            _health.SetStatus(service, ServingStatus.Serving);
        }
    }

    /// <summary>Serving while at least one backend is healthy or degraded; NOT_SERVING otherwise.</summary>
    public void UpdateFromBackends(IEnumerable<BackendSnapshot> backends)
    {
        ArgumentNullException.ThrowIfNull(backends);
        var serving = false;
        foreach (var backend in backends)
        {
            serving |= backend.Health is BackendHealth.Healthy or BackendHealth.Degraded;
        }

        SetRouting(serving ? ServingStatus.Serving : ServingStatus.NotServing);
    }

    private void SetRouting(ServingStatus status)
    {
        // Watchers see "" and the routing services change together, in the order of the updates.
        lock (_lock)
        {
            _health.SetStatus("", status);
            foreach (var service in RoutingServices)
            {
                _health.SetStatus(service, status);
            }
        }
    }
}
