using Grpc.HealthCheck;
using Grpc.Net.Compression;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Router.Gateway.Grpc.Health;
using Router.Gateway.Grpc.Services;
using Router.Telemetry.Metrics;

namespace Router.Gateway.Grpc;

/// <summary>
/// The gRPC surface on Grpc.AspNetCore: compute.v1.ComputeService, compute.v1.EfficiencyService,
/// ollama_proxy.OllamaProxy, grpc.health.v1.Health (Grpc.HealthCheck) and server reflection v1 and
/// v1alpha (Grpc.AspNetCore.Server.Reflection). Wired into a host in three steps:
/// <code>
/// builder.Services.AddRouterGrpc(options);               // needs IInferenceRouter and IRouterAdmin
/// builder.WebHost.ConfigureKestrel(options.ApplyTo);     // on an HTTP/2-only (h2c) listener
/// app.MapRouterGrpc();
/// </code>
/// and, to follow the backends, <see cref="GrpcHealthStatus.UpdateFromBackends"/> on every change.
/// </summary>
internal static class GrpcSurface
{
    private const string Gzip = "gzip";

    /// <summary>
    /// Registers the services, reflection, health and the call policy. Uses TimeProvider.System and
    /// a fresh <see cref="RequestRate"/> unless the container has them.
    /// </summary>
    public static IServiceCollection AddRouterGrpc(this IServiceCollection services, GrpcServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        services.TryAddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(static provider => new RequestRate(provider.GetRequiredService<TimeProvider>()));
        // Token streams run on the router's materializer, resolved at the first stream (the actor system starts with the host).
        services.TryAddSingleton(static provider => new Lazy<Akka.Streams.IMaterializer>(provider.GetRequiredService<Akka.Streams.IMaterializer>));
        services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = options.MaxReceiveMessageSize;
            grpc.MaxSendMessageSize = options.MaxSendMessageSize;
            // Requests may come gzip-compressed; GrpcCallPolicy decides per call whether answers are.
            grpc.CompressionProviders = [new GzipCompressionProvider(System.IO.Compression.CompressionLevel.Fastest)];
            grpc.EnableDetailedErrors = false;
            grpc.Interceptors.Add<GrpcCallPolicy>();
        });
        // Registered before AddGrpcReflection, which then keeps them (it adds its own only if missing).
        services.TryAddSingleton(static _ => ReflectedServices.V1Alpha());
        services.TryAddSingleton(static _ => ReflectedServices.V1());
        services.AddGrpcReflection();

        // Singletons: the services and the call policy hold no per-call state (left out of the
        // container, Grpc.AspNetCore would create one of each per call), and the health status
        // must outlive calls.
        services.TryAddSingleton<GrpcCallPolicy>();
        services.TryAddSingleton<HealthServiceImpl>();
        services.TryAddSingleton<GrpcHealthStatus>();
        services.TryAddSingleton<ModelContextLengths>();
        services.TryAddSingleton<ComputeGrpcService>();
        services.TryAddSingleton<OllamaProxyGrpcService>();
        services.TryAddSingleton<EfficiencyGrpcService>();
        // This category's errors are messages the library could not read or write: a client's
        // unreadable message is its own fault, answered with INTERNAL and a message that says so
        // (GrpcRefusalStatus), and must not put an error in the journal per bad call.
        // A handler that throws is logged by GrpcCallPolicy.
        services.Configure<LoggerFilterOptions>(filters => filters.AddFilter("Grpc.AspNetCore.Server.ServerCallHandler", LogLevel.Critical));
        return services;
    }

    /// <summary>Maps every service; the health status is seeded here (every service SERVING until the backends say otherwise).</summary>
    public static WebApplication MapRouterGrpc(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseGrpcRefusalStatus(app.Services.GetRequiredService<GrpcServerOptions>().MaxReceiveMessageSize);
        app.MapGrpcService<ComputeGrpcService>();
        app.MapGrpcService<OllamaProxyGrpcService>();
        app.MapGrpcService<EfficiencyGrpcService>();
        app.MapGrpcService<HealthServiceImpl>();
        app.MapGrpcReflectionService();
        _ = app.Services.GetRequiredService<GrpcHealthStatus>();
        return app;
    }
}
