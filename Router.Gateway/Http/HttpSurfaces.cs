using System.Collections.Frozen;
using Akka.Streams;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Router.Actors.Config;
using Router.Actors.Inference;
using Router.Gateway.Http.WebSockets;

namespace Router.Gateway.Http;

/// <summary>
/// Wires the HTTP surfaces into a host: OpenAI-compatible /v1, Ollama-native /api, the admin
/// endpoints and the WebSocket stream, all on one port.
/// </summary>
public static class HttpSurfaces
{
    public const string StreamSocketPath = "/v1/stream/ws";

    /// <summary>How often an idle WebSocket is pinged so proxies and NATs keep it open.</summary>
    private static readonly TimeSpan WebSocketKeepAlive = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The services the surfaces need besides <see cref="IInferenceRouter"/>, <see cref="IRouterAdmin"/>,
    /// <see cref="RouterConfig"/> and the token streams' <see cref="IMaterializer"/>.
    /// </summary>
    public static IServiceCollection AddHttpSurfaces(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddRouting();
        services.AddLogging();
        // The materializer is resolved at the first stream: the actor system behind it starts with
        // the host, after the endpoints are mapped.
        services.TryAddSingleton(provider => new Lazy<IMaterializer>(provider.GetRequiredService<IMaterializer>));
        services.AddSingleton(provider => new ErrorAnswers(
            provider.GetRequiredService<ILoggerFactory>().CreateLogger("Router.Gateway.Http"),
            provider.GetService<TimeProvider>() ?? TimeProvider.System,
            provider.GetService<Router.Telemetry.Metrics.RouterMetrics>()));
        return services;
    }

    /// <summary>
    /// Maps every HTTP surface. Resolves <see cref="IInferenceRouter"/>, <see cref="IRouterAdmin"/> and
    /// <see cref="RouterConfig"/> from the container once, here. Also maps a fallback that answers an
    /// unknown path with a 404 and a known path with the wrong method with a 405, both as JSON in the
    /// caller's format.
    /// </summary>
    public static IEndpointRouteBuilder MapHttpSurfaces(this IEndpointRouteBuilder endpoints) => MapHttpSurfaces(endpoints, null);

    /// <summary>
    /// Maps every HTTP surface and the routes <paramref name="more"/> adds (the daemon's own), all in
    /// one route table: a known path asked with another method gets a 405 naming the ones it takes.
    /// </summary>
    internal static IEndpointRouteBuilder MapHttpSurfaces(this IEndpointRouteBuilder endpoints, Action<HttpRouteTable>? more)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var services = endpoints.ServiceProvider;
        var router = services.GetRequiredService<IInferenceRouter>();
        var admin = services.GetRequiredService<IRouterAdmin>();
        var config = services.GetRequiredService<RouterConfig>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Router.Gateway.Http");
        var materializer = services.GetRequiredService<Lazy<IMaterializer>>();
        var drain = services.GetService<Hosting.ShutdownDrain>();
        var bodyLimit = config.Server.MaxRequestBodyBytes;
        var allowed = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

        var table = new HttpRouteTable(endpoints, allowed);

        var models = new ModelEndpoints(admin, bodyLimit, logger);
        foreach (var api in RoutedApi.All)
        {
            table.Map(HttpMethods.Post, api.Path, new InferenceEndpoint(api, router, models, bodyLimit, logger, materializer, drain).HandleAsync);
        }

        table.Map(HttpMethods.Get, "/v1/models", models.ListOpenAIAsync);
        endpoints.MapGet("/v1/models/{**model}", (RequestDelegate)(context => models.GetOpenAIAsync(context, (string)context.Request.RouteValues["model"]!)));
        table.Map(HttpMethods.Get, "/api/tags", models.TagsAsync);
        table.Map(HttpMethods.Get, "/api/ps", models.RunningAsync);
        table.Map(HttpMethods.Post, "/api/show", models.ShowAsync);
        table.Map(HttpMethods.Get, "/api/version", models.VersionAsync);

        // Ollama's own heartbeat (the ollama CLI sends HEAD /), so Ollama tooling sees a live server.
        endpoints.MapMethods("/", [HttpMethods.Get, HttpMethods.Head], static context =>
        {
            context.Response.ContentType = "text/plain; charset=utf-8";
            return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : context.Response.WriteAsync("Ollama is running", context.RequestAborted);
        });

        var adminEndpoints = new AdminEndpoints(admin, logger);
        table.Map(HttpMethods.Get, "/health", adminEndpoints.HealthAsync);
        table.Map(HttpMethods.Get, "/backends", adminEndpoints.BackendsAsync);
        table.Map(HttpMethods.Get, "/thermal", adminEndpoints.ThermalAsync);
        table.Map(HttpMethods.Get, "/efficiency", adminEndpoints.GetEfficiencyAsync);
        table.Map(HttpMethods.Post, "/efficiency", context => adminEndpoints.SetEfficiencyAsync(context, bodyLimit));
        table.Map(HttpMethods.Get, "/actors", adminEndpoints.ActorsAsync);

        // The WebSocket endpoint carries its own WebSocket middleware, so the host need not add it.
        var socketPipeline = endpoints.CreateApplicationBuilder();
        socketPipeline.UseWebSockets(new WebSocketOptions { KeepAliveInterval = WebSocketKeepAlive });
        socketPipeline.Run(context => AcceptStreamSocketAsync(context, router, materializer, drain, bodyLimit, logger));
        endpoints.Map(StreamSocketPath, socketPipeline.Build());

        more?.Invoke(table);

        var allowedByPath = allowed.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        var modelManagement = HttpErrorMap.ModelManagement(string.Join(", ", config.Backends.Select(b => $"{b.Id} at {b.Endpoint}")));
        endpoints.MapFallback("{**path}", context => FallbackAsync(context, allowedByPath, modelManagement));
        return endpoints;
    }

    private static async Task AcceptStreamSocketAsync(HttpContext context, IInferenceRouter router, Lazy<IMaterializer> materializer, Hosting.ShutdownDrain? drain, long bodyLimit, ILogger logger)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await new HttpError(400, HttpErrorMap.InvalidRequest, "websocket_required",
                    $"{StreamSocketPath} speaks WebSocket only: connect with a WebSocket client (ws://host{StreamSocketPath}).")
                .WriteAsync(context, ApiFlavor.OpenAI).ConfigureAwait(false);
            return;
        }
        // A browser that offers subprotocols (a key as bearer.<key>) fails the connection unless one
        // is selected: the router selects its own name, so the key is never sent back.
        var offered = context.WebSockets.WebSocketRequestedProtocols;
        var protocol = offered.Contains(ApiKeys.WebSocketProtocol) ? ApiKeys.WebSocketProtocol
            : offered.FirstOrDefault(static p => p.StartsWith(ApiKeys.WebSocketKeyPrefix, StringComparison.Ordinal));
        using var socket = await context.WebSockets.AcceptWebSocketAsync(protocol).ConfigureAwait(false);
        var session = new StreamSocketSession(socket, router, materializer.Value, bodyLimit, logger, context.TraceIdentifier, context.RequestAborted, drain);
        await session.RunAsync().ConfigureAwait(false);
    }

    // Ollama's model management: each device keeps its own models, so these stay with the backends.
    private static readonly string[] ModelManagementPaths = ["/api/pull", "/api/push", "/api/create", "/api/copy", "/api/delete", "/api/blobs"];

    private static Task FallbackAsync(HttpContext context, FrozenDictionary<string, string> allowedByPath, HttpError modelManagement)
    {
        var path = context.Request.Path.Value ?? "/";
        foreach (var managed in ModelManagementPaths)
        {
            if (context.Request.Path.StartsWithSegments(managed, StringComparison.OrdinalIgnoreCase))
            {
                return modelManagement.WriteAsync(context, ApiFlavor.Ollama);
            }
        }

        var key = path.TrimEnd('/');
        if (key.StartsWith("/v1/models/", StringComparison.OrdinalIgnoreCase)) key = "/v1/models";
        var flavor = HttpError.FlavorOf(context.Request.Path);
        if (allowedByPath.TryGetValue(key, out var methods))
        {
            context.Response.Headers.Allow = methods;
            return HttpErrorMap.MethodNotAllowed(context.Request.Method, path, methods).WriteAsync(context, flavor);
        }
        return HttpErrorMap.UnknownPath(path).WriteAsync(context, flavor);
    }
}

/// <summary>The one route table of the HTTP port: each route with its method, and the methods each path takes, for the 405.</summary>
internal sealed class HttpRouteTable
{
    private readonly IEndpointRouteBuilder _endpoints;
    private readonly Dictionary<string, string> _allowed;

    internal HttpRouteTable(IEndpointRouteBuilder endpoints, Dictionary<string, string> allowed)
    {
        _endpoints = endpoints;
        _allowed = allowed;
    }

    public void Map(string method, string path, RequestDelegate handler)
    {
        _endpoints.MapMethods(path, [method], handler);
        var key = path.Split('{')[0].TrimEnd('/');
        _allowed[key] = _allowed.TryGetValue(key, out var others) ? others + ", " + method : method;
    }
}
