using System.Collections.Immutable;
using Microsoft.Extensions.DependencyInjection;
using Router.Actors.Inference;
using Router.Actors.Routing;
using Router.Gateway.Grpc.Health;

namespace Router.Gateway.Hosting;

/// <summary>Keeps grpc.health.v1 in step with the backends: serving while any backend can serve.</summary>
internal static class GrpcHealthBridge
{
    public static void Attach(IServiceProvider services, RouterRuntime runtime)
    {
        var tracker = services.GetRequiredService<HealthStatusTracker>();
        var latest = ImmutableDictionary<string, BackendSnapshot>.Empty;
        // The handler runs inside one actor, one snapshot at a time: no lock needed for 'latest'.
        runtime.Observe<BackendSnapshot>("grpc-health", snapshot =>
        {
            // Only health decides serving; most snapshots carry nothing but a changed load.
            if (latest.TryGetValue(snapshot.Id, out var known) && known.Health == snapshot.Health)
            {
                return;
            }

            latest = latest.SetItem(snapshot.Id, snapshot);
            tracker.UpdateFromBackends([.. latest.Values]);
        });
    }
}
