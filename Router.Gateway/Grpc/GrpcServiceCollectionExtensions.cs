using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Router.Gateway.Grpc.Health;
using Router.Gateway.Grpc.Reflection;
using Router.Gateway.Grpc.Services;
using ServingStatus = Router.Gateway.Grpc.Contracts.Health.HealthCheckResponse.Types.ServingStatus;

namespace Router.Gateway.Grpc;

/// <summary>Registers the gRPC surface in DI.</summary>
public static class GrpcServiceCollectionExtensions
{
    /// <summary>
    /// Adds the <see cref="GrpcServiceRegistry"/> with every service of the surface
    /// (compute.v1.ComputeService, compute.v1.EfficiencyService, ollama_proxy.OllamaProxy,
    /// grpc.health.v1.Health, grpc.reflection.v1 and v1alpha), the <see cref="HealthStatusTracker"/>
    /// and the options. Needs IInferenceRouter and IRouterAdmin in the container; uses
    /// TimeProvider.System unless one is registered.
    /// </summary>
    public static IServiceCollection AddRouterGrpc(this IServiceCollection services, GrpcServerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(options ?? new GrpcServerOptions());
        services.Configure<Microsoft.AspNetCore.Routing.RouteOptions>(routes => routes.SetParameterPolicy<GrpcRequestConstraint>(GrpcRequestConstraint.Name));
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(provider => new Lazy<Akka.Streams.IMaterializer>(provider.GetRequiredService<Akka.Streams.IMaterializer>));
        services.TryAddSingleton<HealthStatusTracker>();
        services.TryAddSingleton<ComputeService>();
        services.TryAddSingleton<EfficiencyService>();
        services.TryAddSingleton(static provider =>
        {
            var registry = new GrpcServiceRegistry();
            provider.GetRequiredService<ComputeService>().Register(registry);
            provider.GetRequiredService<EfficiencyService>().Register(registry);
            var health = provider.GetRequiredService<HealthStatusTracker>();
            new HealthService(health).Register(registry);
            new ReflectionService(registry).Register(registry);

            // Every service we serve is known to health from the start; the host moves the
            // server and the routing services with HealthStatusTracker.UpdateFromBackends.
            health.SetStatusIfUnknown("", ServingStatus.Serving);
            foreach (var service in registry.Services)
            {
                health.SetStatusIfUnknown(service, ServingStatus.Serving);
            }

            return registry;
        });
        return services;
    }
}
