using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Router.Gateway.Grpc.Health;
using Router.Gateway.Grpc.Reflection;
using Router.Gateway.Grpc.Services;

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
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<HealthStatusTracker>();
        services.TryAddSingleton<ComputeService>();
        services.TryAddSingleton<EfficiencyService>();
        services.TryAddSingleton(static provider =>
        {
            var registry = new GrpcServiceRegistry();
            provider.GetRequiredService<ComputeService>().Register(registry);
            provider.GetRequiredService<EfficiencyService>().Register(registry);
            new HealthService(provider.GetRequiredService<HealthStatusTracker>()).Register(registry);
            var reflection = new ReflectionService(registry);
            reflection.Register(registry);
            return registry;
        });
        return services;
    }
}
