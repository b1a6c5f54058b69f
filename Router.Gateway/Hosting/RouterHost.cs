using System.Net;
using Akka.Actor;
using Akka.Hosting;
using Akka.Streams;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Router.Actors.Config;
using Router.Actors.Fleet;
using Router.Actors.Inference;
using Router.Actors.Routing;
using Router.Actors.State;
using Router.DBus;
using Router.Gateway.Grpc;
using Router.Gateway.Http;
using Router.Gateway.Simulation;
using Router.Telemetry.Sensors;

namespace Router.Gateway.Hosting;

/// <summary>
/// The running daemon: one ASP.NET Core host with the router's actor system (Akka.Hosting), the
/// HTTP listener (OpenAI, Ollama, admin, WebSocket) and the gRPC listener (HTTP/2 cleartext), and
/// in simulation mode the simulated devices. Stopping the host stops the listeners first (the
/// requests in flight end and free their slots), then runs Akka's coordinated shutdown.
/// Tests start it on port 0 and read the bound endpoints.
/// </summary>
internal sealed class RouterHost : IAsyncDisposable
{
    /// <summary>Marks the connections of the gRPC listener (a connection item), so HTTP routes stay off that port.</summary>
    private const string GrpcListenerItem = "ollama-proxy.grpc-listener";

    /// <summary>After the drain runs out: time for the surfaces to write their endings and free the slots.</summary>
    private static readonly TimeSpan ShutdownGrace = TimeSpan.FromSeconds(5);

    private readonly WebApplication _app;
    private readonly IReadOnlyList<SimulatedBackend> _simulators;
    private readonly RouterTelemetry _telemetry;
    private readonly DesktopIntegration _desktop;

    private RouterHost(WebApplication app, RouterRuntime runtime, RouterConfig config, IReadOnlyList<SimulatedBackend> simulators,
        SimulatedLaptop? machine, RouterTelemetry telemetry, DesktopIntegration desktop, Uri httpEndpoint, Uri grpcEndpoint)
    {
        _desktop = desktop;
        _app = app;
        Runtime = runtime;
        Config = config;
        _simulators = simulators;
        Machine = machine;
        _telemetry = telemetry;
        HttpEndpoint = httpEndpoint;
        GrpcEndpoint = grpcEndpoint;
    }

    public RouterRuntime Runtime { get; }
    public RouterConfig Config { get; }
    public Uri HttpEndpoint { get; }
    public Uri GrpcEndpoint { get; }
    /// <summary>The simulated devices, in simulation mode (else empty).</summary>
    public IReadOnlyList<SimulatedBackend> Simulators => _simulators;
    /// <summary>The simulated laptop (battery, AC, temperatures, fans, throttling), in simulation mode.</summary>
    public SimulatedLaptop? Machine { get; }
    public IServiceProvider Services => _app.Services;
    /// <summary>The session bus the router is exported on (ie.fio.OllamaProxy), or null when D-Bus is off.</summary>
    public string? SessionBusAddress => _desktop.SessionBusAddress;
    /// <summary>This router's place in the fleet, when <c>cluster.enabled</c>.</summary>
    public FleetNode? Fleet { get; private set; }

    public static async Task<RouterHost> StartAsync(RouterConfig config, RouterHostOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(options);
        config = options.Apply(config);
        var runtimeOptions = options.Runtime;
        IReadOnlyList<SimulatedBackend> simulators = [];
        SimulatedLaptop? machine = null;
        SimulationFaults? faults = null;
        RouterRuntime? runtime = null;
        RouterTelemetry? telemetry = null;
        DesktopIntegration? desktop = null;
        WebApplication? app = null;
        try
        {
            if (options.Simulate)
            {
                simulators = await SimulatedFleet.StartDefaultAsync(options.SimulationTimeScale, cancellationToken: cancellationToken).ConfigureAwait(false);
                config = SimulationSetup.PointAt(config, simulators, laptopSensors: true);
                faults = SimulationFaults.For(config, simulators);
            }

            telemetry = RouterTelemetry.Create(config, ref runtimeOptions);
            // Simulation: the simulated laptop is read through the same path as the real machine's
            // sysfs (LinuxMachineSource), so its samples feed the actors, the energy meter and /metrics.
            LinuxMachineSource? sensors;
            if (options.Simulate)
            {
                machine = SimulationSetup.Laptop(config, simulators, options.SimulationTimeScale, runtimeOptions.TimeProvider);
                sensors = new LinuxMachineSource(machine, config.Backends, runtimeOptions.TimeProvider, config.Telemetry.SampleInterval,
                    telemetry.Energy, telemetry.State);
                runtimeOptions = runtimeOptions with
                {
                    PowerSource = runtimeOptions.PowerSource ?? sensors,
                    ThermalSource = runtimeOptions.ThermalSource ?? sensors,
                };
            }
            else
            {
                sensors = LinuxSensors.UseUnlessSet(config, ref runtimeOptions, telemetry);
            }

            // Desktop (Router.DBus), before the runtime is built: UPower and power-profiles-daemon in
            // front of the power source, and a request observer for the D-Bus objects.
            (desktop, runtimeOptions) = await DesktopIntegration.PrepareAsync(config, runtimeOptions, options.DesktopBuses,
                simulatedMachine: machine is not null, DesktopLoggers(options), cancellationToken).ConfigureAwait(false);
            if (desktop.ReadsPowerFromDesktop)
            {
                telemetry.State.TakePowerFromSystemStateOnly();
            }

            runtime = new RouterRuntime(config, runtimeOptions);
            var listeners = new Listeners();
            app = Build(config, options, runtime, machine, faults, telemetry, sensors, listeners);
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            // Desktop (Router.DBus): the objects on the session bus, once the actors run. A second
            // daemon of the user finds the bus name taken here and stops (its ports, the same as
            // the first one's unless told otherwise, usually failed to bind already).
            await desktop.StartAsync(runtime, app.Services.GetRequiredService<ILoggerFactory>(), telemetry.TotalEnergyWh, cancellationToken).ConfigureAwait(false);
            var host = new RouterHost(app, runtime, config, simulators, machine, telemetry, desktop,
                Endpoint(listeners.Http!, config), Endpoint(listeners.Grpc!, config));
            // Fleet (cluster { }): joined once the HTTP listener is bound, since peers forward to its port.
            if (config.Cluster.Enabled)
            {
                host.Fleet = await FleetNode.StartAsync(runtime, host.HttpEndpoint, app.Services.GetRequiredService<ILoggerFactory>(), cancellationToken).ConfigureAwait(false);
            }

            return host;
        }
        catch
        {
            if (app is not null)
            {
                await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
                await app.DisposeAsync().ConfigureAwait(false);
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

    private static WebApplication Build(RouterConfig config, RouterHostOptions options, RouterRuntime runtime, SimulatedLaptop? machine,
        SimulationFaults? faults, RouterTelemetry telemetry, LinuxMachineSource? sensors, Listeners listeners)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            // The daemon's settings come from its own configuration, never from appsettings.json.
            // Left to its defaults the host would watch the working directory (for a user daemon
            // often $HOME) and every directory under it for such a file.
            ContentRootPath = AppContext.BaseDirectory,
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
        });
        ConfigureLogging(builder, options);
        ConfigureKestrel(builder, config, listeners);

        builder.Services.AddSingleton(config);
        builder.Services.AddSingleton(runtime);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ShutdownDrain>();
        // Kestrel waits this long for the requests in flight when the host stops: the drain, plus
        // time for each surface to write its ending once the drain has run out.
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = config.Server.DrainTimeout + ShutdownGrace);
        builder.Services.AddSingleton(runtime.Router);
        builder.Services.AddSingleton<IRouterAdmin>(runtime);
        builder.Services.AddSingleton(config.Routing);
        builder.Services.AddSingleton(telemetry.Energy);
        builder.Services.AddSingleton(telemetry.Metrics);
        // The runtime's materializer runs every token stream the surfaces write (resolved once the actors run).
        builder.Services.AddSingleton(_ => runtime.Materializer);
        builder.Services.AddHttpSurfaces();
        var grpcOptions = new GrpcServerOptions
        {
            MaxReceiveMessageSize = config.Server.GrpcMaxMessageBytes,
            MaxSendMessageSize = config.Server.GrpcMaxMessageBytes,
        };
        builder.WebHost.ConfigureKestrel(grpcOptions.ApplyTo);
        builder.Services.AddSingleton(telemetry.RequestRate);
        builder.Services.AddRouterGrpc(grpcOptions);
        builder.Services.AddAkka(ActorSystemConfig.SystemName, (akka, services) =>
        {
            akka.AddHocon(ActorSystemConfig.For(config, options.Runtime.ActorSystemOverrides), HoconAddMode.Prepend);
            akka.ConfigureLoggers(loggers =>
            {
                loggers.ClearLoggers();
                loggers.AddLoggerFactory();
            });
            akka.WithActors(async (system, _) =>
            {
                await runtime.StartActorsAsync(system).ConfigureAwait(false);
                // Before the listeners open, so that metrics, logs and gRPC health see every request.
                var loggers = services.GetRequiredService<ILoggerFactory>();
                runtime.UseLogger(loggers);
                RouterHostLog.Attach(runtime, loggers.CreateLogger("Router"));
                await telemetry.AttachAsync(runtime, loggers, sensors, CancellationToken.None).ConfigureAwait(false);
                GrpcHealthBridge.Attach(services, runtime);
                var efficiency = services.GetRequiredService<Grpc.Services.EfficiencyGrpcService>();
                runtime.Observe<SystemState>("grpc-state-watch", _ => efficiency.Wake());
            });
        });

        var app = builder.Build();
        app.Use(KeepListenersApart);
        app.Use(RefuseNewWorkWhileStopping(app.Services.GetRequiredService<ShutdownDrain>()));
        // Who may call: on the HTTP port the Host, the browser's Origin and the API key; on the gRPC
        // port the API key, answered as gRPC.
        // A peer's forwarded request (hop header) carries the fleet's secret instead of a key; one
        // with the right secret is taken as authenticated by the access control below.
        app.UseWhen(context => !IsOnGrpcListener(context), http => http.UseFleetForwarding());
        app.UseWhen(IsOnGrpcListener, grpc => grpc.UseGrpcAccessControl());
        app.UseWhen(context => !IsOnGrpcListener(context), http => http.UseAccessControl());
        app.MapHttpSurfaces(routes => DaemonEndpoints.Map(routes, runtime, telemetry, machine, faults));
        app.MapRouterGrpc();
        return app;
    }

    private static void ConfigureLogging(WebApplicationBuilder builder, RouterHostOptions options)
    {
        builder.Logging.ClearProviders();
        if (options.ConsoleLogging)
        {
            SystemdService.AddConsoleLogging(builder.Logging);
            builder.Logging.SetMinimumLevel(LogLevel.Information);
            builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
            builder.Logging.AddFilter("Microsoft.Hosting", LogLevel.Warning);
            builder.Logging.AddFilter("Akka.Hosting", LogLevel.Warning);
        }

        // This category only logs each request's start and end (Information, filtered out anyway),
        // but while it is enabled at any level the host also starts an Activity and a log scope for
        // every request, which nothing here reads.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
    }

    private static void ConfigureKestrel(WebApplicationBuilder builder, RouterConfig config, Listeners listeners)
    {
        var address = config.Server.Host is "localhost" ? IPAddress.Loopback : IPAddress.Parse(config.Server.Host);
        // Kestrel's inline scheduling follows the sockets' switch: it removes Kestrel's own hop to the
        // thread pool, which matters only once the socket completion itself arrives without one.
        builder.WebHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = InlineSocketCompletions.Enabled);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // Bodies are limited per surface (a clean 413 or RESOURCE_EXHAUSTED in the caller's
            // format); Kestrel's own limit only guards against absurd sizes.
            kestrel.Limits.MaxRequestBodySize = Math.Max(config.Server.MaxRequestBodyBytes, config.Server.GrpcMaxMessageBytes) * 2;
            kestrel.Listen(address, config.Server.HttpPort, http =>
            {
                http.Protocols = HttpProtocols.Http1;
                listeners.Http = http;
            });
            // gRPC is HTTP/2 only; over cleartext there is no negotiation, so clients use prior
            // knowledge (h2c), and HTTP/1.1 cannot share the port: it gets its own listener.
            kestrel.Listen(address, config.Server.GrpcPort, grpc =>
            {
                grpc.Protocols = HttpProtocols.Http2;
                grpc.Use(next => connection =>
                {
                    connection.Items[GrpcListenerItem] = true;
                    return next(connection);
                });
                listeners.Grpc = grpc;
            });
        });
    }

    private static bool IsOnGrpcListener(HttpContext context) =>
        context.Features.Get<IConnectionItemsFeature>()?.Items.ContainsKey(GrpcListenerItem) == true;

    /// <summary>The gRPC port answers gRPC only; the HTTP surfaces live on the HTTP port.</summary>
    private static Task KeepListenersApart(HttpContext context, RequestDelegate next)
    {
        if (IsOnGrpcListener(context) && context.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) != true)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            context.Response.ContentType = "text/plain; charset=utf-8";
            return context.Response.WriteAsync("This port serves gRPC only (HTTP/2, content-type application/grpc); the HTTP API is on the router's HTTP port.\n", context.RequestAborted);
        }

        return next(context);
    }

    /// <summary>Once the stop has begun, a request that arrives is refused (503, or UNAVAILABLE on gRPC): only the work in flight drains.</summary>
    internal static Func<HttpContext, RequestDelegate, Task> RefuseNewWorkWhileStopping(ShutdownDrain drain) => (context, next) =>
    {
        if (!drain.IsStopping)
        {
            return next(context);
        }

        // HTTP/1.1: no more requests on this connection. HTTP/2 has no such header (Kestrel would
        // strip it with a warning per call); its GOAWAY tells the client instead.
        if (!HttpProtocol.IsHttp2(context.Request.Protocol))
        {
            context.Response.Headers.Connection = "close";
        }

        if (context.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true)
        {
            // Trailers-only: the status in the headers, as a gRPC server answers a call it will not serve.
            context.Response.ContentType = "application/grpc";
            context.Response.Headers["grpc-status"] = "14";
            context.Response.Headers["grpc-message"] = "the router is shutting down; retry in a moment";
            return Task.CompletedTask;
        }

        return HttpErrorMap.ShuttingDown.WriteAsync(context, HttpError.FlavorOf(context.Request.Path));
    };

    private static Uri Endpoint(ListenOptions listener, RouterConfig config) =>
        // After binding, the listener's endpoint carries the port the system chose for port 0.
        new($"http://{UriHost(config.Server.Host)}:{((IPEndPoint)listener.EndPoint).Port}");

    private static string UriHost(string host) =>
        host is "0.0.0.0" ? "127.0.0.1" : host is "::" ? "[::1]" : host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host;

    public async ValueTask DisposeAsync()
    {
        // The fleet first: peers drop this node's backends at once instead of after their failure detector.
        if (Fleet is not null)
        {
            await Fleet.DisposeAsync().ConfigureAwait(false);
        }

        // Stop accepting, let the surfaces finish (each open stream is cancelled and frees its
        // slot), then Akka's coordinated shutdown stops the actors; then the desktop and the simulated devices.
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        await _desktop.DisposeAsync().ConfigureAwait(false);
        await Runtime.DisposeAsync().ConfigureAwait(false);
        _telemetry.Dispose();
        foreach (var simulator in _simulators)
        {
            await simulator.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Completes when the host is asked to stop (Ctrl+C, SIGTERM, or the actor system ended).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken) => _app.WaitForShutdownAsync(cancellationToken);

    /// <summary>The two listeners, captured while Kestrel is configured, read once they are bound.</summary>
    private sealed class Listeners
    {
        public ListenOptions? Http { get; set; }
        public ListenOptions? Grpc { get; set; }
    }
}
