using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Router.Actors.Config;
using Router.Actors.Inference;
using Router.Gateway.Http;

using Router.Tests.TestKit;

namespace Router.Tests.Http;

/// <summary>
/// A real Kestrel server on 127.0.0.1, port 0, with the HTTP surfaces mapped over the router and
/// admin it is given. Tests pass fakes today; after integration the same fixture takes the real
/// router, so every test here runs against it unchanged.
/// </summary>
internal sealed class HttpSurfaceHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private HttpSurfaceHost(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    /// <summary>Where the server listens, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseAddress { get; }

    /// <param name="configure">Adds to the host before it is built (a logger provider, services).</param>
    public static async Task<HttpSurfaceHost> StartAsync(IInferenceRouter router, IRouterAdmin admin, RouterConfig? config = null, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(5));
        builder.Services.AddSingleton(router);
        builder.Services.AddSingleton(admin);
        builder.Services.AddSingleton(config ?? new RouterConfig());
        builder.Services.AddHttpSurfaces();
        builder.Services.AddTestStreams();
        configure?.Invoke(builder);

        var app = builder.Build();
        app.UseAccessControl();
        app.MapHttpSurfaces();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new HttpSurfaceHost(app, new Uri(address.TrimEnd('/') + "/"));
    }

    /// <summary>A client for this host; the caller disposes it.</summary>
    public HttpClient CreateClient(HttpMessageHandler? handler = null) =>
        new(handler ?? new SocketsHttpHandler(), disposeHandler: true) { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

    public Uri WebSocketUri(string path) => new UriBuilder(BaseAddress) { Scheme = "ws", Path = path }.Uri;

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
