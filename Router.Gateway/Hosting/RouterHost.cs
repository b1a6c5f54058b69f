using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Router.Actors.Config;
using Router.Actors.Inference;
using Router.Actors.Routing;
using Router.Actors.State;
using Router.DBus;
using Router.Gateway.Grpc;
using Router.Gateway.Http;
using Router.Gateway.Simulation;

namespace Router.Gateway.Hosting;

/// <summary>
/// The running daemon: the router runtime, the HTTP listener (OpenAI, Ollama, admin, WebSocket)
/// and the gRPC listener (HTTP/2 cleartext), and in simulation mode the simulated devices.
/// Tests start it on port 0 and read the bound endpoints.
/// </summary>
internal sealed class RouterHost : IAsyncDisposable
{
    private readonly WebApplication _http;
    private readonly WebApplication _grpc;
    private readonly IReadOnlyList<SimulatedBackend> _simulators;
    private readonly RouterTelemetry _telemetry;
    private readonly DesktopIntegration _desktop;

    private RouterHost(WebApplication http, WebApplication grpc, RouterRuntime runtime, RouterConfig config,
        IReadOnlyList<SimulatedBackend> simulators, SimulatedMachine? machine, RouterTelemetry telemetry, DesktopIntegration desktop)
    {
        _desktop = desktop;
        _http = http;
        _grpc = grpc;
        Runtime = runtime;
        Config = config;
        _simulators = simulators;
        Machine = machine;
        _telemetry = telemetry;
        HttpEndpoint = BoundEndpoint(http, config);
        GrpcEndpoint = BoundEndpoint(grpc, config);
    }

    public RouterRuntime Runtime { get; }
    public RouterConfig Config { get; }
    public Uri HttpEndpoint { get; }
    public Uri GrpcEndpoint { get; }
    /// <summary>The simulated devices, in simulation mode (else empty).</summary>
    public IReadOnlyList<SimulatedBackend> Simulators => _simulators;
    /// <summary>The simulated battery, AC and temperatures, in simulation mode.</summary>
    public SimulatedMachine? Machine { get; }
    public IServiceProvider Services => _http.Services;
    /// <summary>The session bus the router is exported on (ie.fio.OllamaProxy), or null when D-Bus is off.</summary>
    public string? SessionBusAddress => _desktop.SessionBusAddress;

    public static async Task<RouterHost> StartAsync(RouterConfig config, RouterHostOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(options);
        config = options.Apply(config);
        var runtimeOptions = options.Runtime;
        IReadOnlyList<SimulatedBackend> simulators = [];
        SimulatedMachine? machine = null;
        RouterRuntime? runtime = null;
        RouterTelemetry? telemetry = null;
        DesktopIntegration? desktop = null;
        WebApplication? http = null;
        WebApplication? grpc = null;
        try
        {
            if (options.Simulate)
            {
                simulators = await SimulatedFleet.StartDefaultAsync(options.SimulationTimeScale, cancellationToken: cancellationToken).ConfigureAwait(false);
                config = SimulationSetup.PointAt(config, simulators);
                machine = new SimulatedMachine(runtimeOptions.TimeProvider);
                runtimeOptions = runtimeOptions with
                {
                    PowerSource = runtimeOptions.PowerSource ?? machine,
                    ThermalSource = runtimeOptions.ThermalSource ?? machine,
                };
            }

            telemetry = RouterTelemetry.Create(config, ref runtimeOptions);
            var sensors = LinuxSensors.UseUnlessSet(config, ref runtimeOptions, telemetry);
            // Desktop (Router.DBus), before the runtime starts: UPower and power-profiles-daemon in
            // front of the power source, and a request observer for the D-Bus objects.
            (desktop, runtimeOptions) = await DesktopIntegration.PrepareAsync(config, runtimeOptions, options.DesktopBuses,
                simulatedMachine: machine is not null, DesktopLoggers(options), cancellationToken).ConfigureAwait(false);
            if (desktop.ReadsPowerFromDesktop)
            {
                telemetry.State.TakePowerFromSystemStateOnly();
            }
            runtime = await RouterRuntime.StartAsync(config, runtimeOptions).ConfigureAwait(false);
            http = BuildHttp(config, options, runtime, machine, telemetry);
            grpc = BuildGrpc(config, options, runtime);
            var loggers = http.Services.GetRequiredService<ILoggerFactory>();
            RouterHostLog.Attach(runtime, loggers.CreateLogger("Router"));
            await telemetry.AttachAsync(runtime, loggers, sensors, cancellationToken).ConfigureAwait(false);
            // Desktop (Router.DBus): on the session bus before the listeners, so a second daemon
            // whose bus name is taken stops before it binds any port.
            await desktop.StartAsync(runtime, loggers, telemetry.TotalEnergyWh, cancellationToken).ConfigureAwait(false);
            await http.StartAsync(cancellationToken).ConfigureAwait(false);
            await grpc.StartAsync(cancellationToken).ConfigureAwait(false);
            return new RouterHost(http, grpc, runtime, config, simulators, machine, telemetry, desktop);
        }
        catch
        {
            foreach (var app in new[] { http, grpc })
            {
                if (app is not null)
                {
                    await app.DisposeAsync().ConfigureAwait(false);
                }
            }

            if (desktop is not null)
            {
                await desktop.DisposeAsync().ConfigureAwait(false);
            }

            if (runtime is not null)
            {
                await runtime.DisposeAsync().ConfigureAwait(false);
            }

            telemetry?.Dispose();
            foreach (var simulator in simulators)
            {
                await simulator.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }
    }

    /// <summary>Loggers for what starts before the web host exists (its own log to the same console).</summary>
    private static ILoggerFactory DesktopLoggers(RouterHostOptions options) => options.ConsoleLogging
        ? LoggerFactory.Create(logging => logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss ";
            }).SetMinimumLevel(LogLevel.Information))
        : Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance;

    private static WebApplicationBuilder CreateBuilder(RouterConfig config, RouterHostOptions options, RouterRuntime runtime, int port, HttpProtocols protocols)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            // The daemon's settings come from its own configuration, never from appsettings.json.
            // Left to its defaults the host would watch the working directory (for a user daemon
            // often $HOME) and every directory under it for such a file, on each listener.
            ContentRootPath = AppContext.BaseDirectory,
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
        });
        builder.Logging.ClearProviders();
        if (options.ConsoleLogging)
        {
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss ";
            });
            builder.Logging.SetMinimumLevel(LogLevel.Information);
            builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
            builder.Logging.AddFilter("Microsoft.Hosting", LogLevel.Warning);
        }

        // This category only logs each request's start and end (Information, filtered out anyway),
        // but while it is enabled at any level the host also starts an Activity and a log scope for
        // every request, which nothing here reads.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);

        var address = config.Server.Host is "localhost" ? IPAddress.Loopback : IPAddress.Parse(config.Server.Host);
        // Kestrel inlines its own scheduling only when the sockets complete inline too: on its own it
        // saved nothing measurable (scripts/bench-http, paced streams).
        builder.WebHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = InlineSocketCompletions.Enabled);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // Bodies are limited per surface (a clean 413 or RESOURCE_EXHAUSTED in the caller's
            // format); Kestrel's own limit only guards against absurd sizes.
            kestrel.Limits.MaxRequestBodySize = Math.Max(config.Server.MaxRequestBodyBytes, config.Server.GrpcMaxMessageBytes) * 2;
            kestrel.Listen(address, port, o => o.Protocols = protocols);
        });
        builder.Services.AddSingleton(config);
        builder.Services.AddSingleton(runtime);
        builder.Services.AddSingleton<IInferenceRouter>(runtime.Router);
        builder.Services.AddSingleton<IRouterAdmin>(runtime);
        builder.Services.AddSingleton(runtime.Config.Routing);
        return builder;
    }

    private static WebApplication BuildHttp(RouterConfig config, RouterHostOptions options, RouterRuntime runtime, SimulatedMachine? machine, RouterTelemetry telemetry)
    {
        // Cleartext HTTP/2 cannot share a port with HTTP/1.1 (no TLS to negotiate it); gRPC has its own port.
        var builder = CreateBuilder(config, options, runtime, config.Server.HttpPort, HttpProtocols.Http1);
        builder.Services.AddHttpSurfaces();
        builder.Services.AddSingleton(telemetry.Energy);
        var app = builder.Build();
        app.UseBrowserOrigins();
        DaemonEndpoints.Map(app, runtime, telemetry, machine);
        app.MapHttpSurfaces();
        return app;
    }

    private static WebApplication BuildGrpc(RouterConfig config, RouterHostOptions options, RouterRuntime runtime)
    {
        // gRPC is HTTP/2 only; over cleartext there is no negotiation, so clients use prior knowledge (h2c).
        var builder = CreateBuilder(config, options, runtime, config.Server.GrpcPort, HttpProtocols.Http2);
        builder.Services.AddRouterGrpc(new GrpcServerOptions
        {
            MaxReceiveMessageSize = config.Server.GrpcMaxMessageBytes,
            MaxSendMessageSize = config.Server.GrpcMaxMessageBytes,
        });
        var app = builder.Build();
        app.MapRouterGrpc();
        GrpcHealthBridge.Attach(app.Services, runtime);
        var efficiency = app.Services.GetRequiredService<Router.Gateway.Grpc.Services.EfficiencyService>();
        runtime.Observe<SystemState>("grpc-state-watch", _ => efficiency.Wake());
        return app;
    }

    private static Uri BoundEndpoint(WebApplication app, RouterConfig config)
    {
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        var port = new Uri(address.Replace("://+", "://localhost", StringComparison.Ordinal).Replace("://*", "://localhost", StringComparison.Ordinal)).Port;
        return new Uri($"http://{UriHost(config.Server.Host)}:{port}");
    }

    private static string UriHost(string host) =>
        host is "0.0.0.0" ? "127.0.0.1" : host is "::" ? "[::1]" : host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host;

    public async ValueTask DisposeAsync()
    {
        // Stop accepting, let the surfaces finish (each open stream is cancelled and frees its
        // slot), then stop the actors and the simulated devices.
        await _http.StopAsync().ConfigureAwait(false);
        await _grpc.StopAsync().ConfigureAwait(false);
        await _http.DisposeAsync().ConfigureAwait(false);
        await _grpc.DisposeAsync().ConfigureAwait(false);
        await _desktop.DisposeAsync().ConfigureAwait(false);
        await Runtime.DisposeAsync().ConfigureAwait(false);
        _telemetry.Dispose();
        foreach (var simulator in _simulators)
        {
            await simulator.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Completes when either app is asked to stop (Ctrl+C, SIGTERM).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken) =>
        Task.WhenAny(_http.WaitForShutdownAsync(cancellationToken), _grpc.WaitForShutdownAsync(cancellationToken));
}
