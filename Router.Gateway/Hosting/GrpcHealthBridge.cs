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
        var health = services.GetRequiredService<GrpcHealthStatus>();
        var latest = ImmutableDictionary<string, BackendSnapshot>.Empty;
        // The handler runs inside one actor, one snapshot at a time: no lock needed for 'latest'.
        var observer = runtime.Observe<BackendSnapshot>("grpc-health", snapshot =>
        {
            // Only health decides serving; most snapshots carry nothing but a changed load. An
            // older snapshot (the seed below, overtaken by a live one) changes nothing.
            if (latest.TryGetValue(snapshot.Id, out var known) && (known.Health == snapshot.Health || known.Version > snapshot.Version))
            {
                return;
            }

            latest = latest.SetItem(snapshot.Id, snapshot);
            health.UpdateFromBackends(latest.Values);
        });

        // The backends probe from the moment the runtime starts, usually before this runs: what they
        // published already is fetched once and handed to the same actor, or health would read
        // NOT_SERVING until the next probe, 30 s on.
        _ = SeedAsync();

        async Task SeedAsync()
        {
            try
            {
                foreach (var snapshot in await runtime.GetBackendsAsync(CancellationToken.None).ConfigureAwait(false))
                {
                    observer.Tell(snapshot, Akka.Actor.ActorRefs.NoSender);
                }
            }
            catch (TimeoutException)
            {
                // Shutting down before the routing-table publisher answered: nothing left to serve anyway.
            }
        }
    }
}
