using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Router.Gateway.Grpc;

/// <summary>
/// Wires the gRPC surface into a host:
/// <code>
/// builder.Services.AddRouterGrpc(new GrpcServerOptions { MaxReceiveMessageSize = config.Server.GrpcMaxMessageBytes });
/// builder.WebHost.ConfigureKestrel(k => k.ListenGrpc(IPAddress.Loopback, config.Server.GrpcPort));
/// app.MapRouterGrpc().RequireHost($"*:{config.Server.GrpcPort}");
/// </code>
/// </summary>
public static class GrpcEndpointExtensions
{
    /// <summary>
    /// Maps every method of <paramref name="registry"/> as a POST endpoint at its path, plus a
    /// catch-all "/{service}/{method}" that answers gRPC requests (and only those, see
    /// <see cref="GrpcRequestConstraint"/>) for unknown methods with UNIMPLEMENTED. Freezes the registry. The returned group
    /// takes conventions, e.g. <c>RequireHost("*:50051")</c> to answer gRPC on its port only.
    /// </summary>
    public static RouteGroupBuilder MapGrpcRouter(this IEndpointRouteBuilder endpoints, GrpcServiceRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(registry);

        registry.Freeze();
        var services = endpoints.ServiceProvider;
        var dispatcher = new GrpcDispatcher(
            registry,
            services.GetService<GrpcServerOptions>() ?? new GrpcServerOptions(),
            services.GetService<TimeProvider>() ?? TimeProvider.System,
            services.GetService<ILogger<GrpcDispatcher>>() ?? NullLogger<GrpcDispatcher>.Instance,
            services.GetService<IHostApplicationLifetime>()?.ApplicationStopping ?? default);

        var group = endpoints.MapGroup("");
        foreach (var method in registry.Methods)
        {
            group.MapPost(method.Path, http => dispatcher.DispatchAsync(http, method))
                .WithDisplayName("gRPC " + method.Path);
        }

        group.MapPost($"/{{service:{GrpcRequestConstraint.Name}}}/{{method}}", dispatcher.DispatchUnknownAsync)
            .WithDisplayName("gRPC unimplemented");
        return group;
    }

    /// <summary>Maps the registry built by <see cref="GrpcServiceCollectionExtensions.AddRouterGrpc"/>.</summary>
    public static RouteGroupBuilder MapRouterGrpc(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        return endpoints.MapGrpcRouter(endpoints.ServiceProvider.GetRequiredService<GrpcServiceRegistry>());
    }

    /// <summary>Adds a cleartext HTTP/2-only (h2c, prior knowledge) listener for gRPC.</summary>
    public static KestrelServerOptions ListenGrpc(this KestrelServerOptions kestrel, IPAddress address, int port, Action<ListenOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(kestrel);
        kestrel.Listen(address, port, listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            configure?.Invoke(listen);
        });
        return kestrel;
    }
}
