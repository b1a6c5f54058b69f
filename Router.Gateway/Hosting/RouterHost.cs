using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Router.Actors.Config;
using Router.Actors.Inference;
using Router.Actors.State;
using Router.Gateway.Simulation;

namespace Router.Gateway.Hosting;

/// <summary>
/// The running daemon: the router runtime, the HTTP listener (OpenAI, Ollama, admin, WebSocket)
/// and the gRPC listener (HTTP/2 cleartext), and in simulation mode the simulated devices.
/// Tests start it on port 0 and read the bound endpoints.
/// </summary>
internal sealed class RouterHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly IReadOnlyList<SimulatedBackend> _simulators;

    private RouterHost(WebApplication app, RouterRuntime runtime, RouterConfig config, IReadOnlyList<SimulatedBackend> simulators,
        SimulatedMachine? machine, Uri http, Uri grpc)
    {
        _app = app;
        Runtime = runtime;
        Config = config;
        _simulators = simulators;
        Machine = machine;
        HttpEndpoint = http;
        GrpcEndpoint = grpc;
    }

    public RouterRuntime Runtime { get; }
    public RouterConfig Config { get; }
    public Uri HttpEndpoint { get; }
    public Uri GrpcEndpoint { get; }
    /// <summary>The simulated devices, in simulation mode (else empty).</summary>
    public IReadOnlyList<SimulatedBackend> Simulators => _simulators;
    /// <summary>The simulated battery, AC and temperatures, in simulation mode.</summary>
    public SimulatedMachine? Machine { get; }
    public IServiceProvider Services => _app.Services;

    public static async Task<RouterHost> StartAsync(RouterConfig config, RouterHostOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(options);
        config = options.Apply(config);
        var runtimeOptions = options.Runtime;
        IReadOnlyList<SimulatedBackend> simulators = [];
        SimulatedMachine? machine = null;
        RouterRuntime? runtime = null;
        WebApplication? app = null;
        try
        {
            if (options.Simulate)
            {
                simulators = await SimulatedFleet.StartDefaultAsync(options.SimulationTimeScale, cancellationToken).ConfigureAwait(false);
                config = SimulationSetup.PointAt(config, simulators);
                machine = new SimulatedMachine(runtimeOptions.TimeProvider);
                runtimeOptions = runtimeOptions with
                {
                    PowerSource = runtimeOptions.PowerSource ?? machine,
                    ThermalSource = runtimeOptions.ThermalSource ?? machine,
                };
            }

            runtime = await RouterRuntime.StartAsync(config, runtimeOptions).ConfigureAwait(false);
            app = Build(config, options, runtime, machine);
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            var listeners = app.Services.GetRequiredService<ListenerPorts>();
            var http = new Uri($"http://{UriHost(config.Server.Host)}:{listeners.Http!.IPEndPoint!.Port}");
            var grpc = new Uri($"http://{UriHost(config.Server.Host)}:{listeners.Grpc!.IPEndPoint!.Port}");
            listeners.GrpcPort = listeners.Grpc.IPEndPoint.Port;
            return new RouterHost(app, runtime, config, simulators, machine, http, grpc);
        }
        catch
        {
            if (app is not null)
            {
                await app.DisposeAsync().ConfigureAwait(false);
            }

            if (runtime is not null)
            {
                await runtime.DisposeAsync().ConfigureAwait(false);
            }

            foreach (var simulator in simulators)
            {
                await simulator.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }
    }

    private static WebApplication Build(RouterConfig config, RouterHostOptions options, RouterRuntime runtime, SimulatedMachine? machine)
    {
        var builder = WebApplication.CreateSlimBuilder();
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
        }

        var listeners = new ListenerPorts();
        var address = IPAddress.Parse(config.Server.Host == "localhost" ? "127.0.0.1" : config.Server.Host);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // Bodies are limited per surface (a clean 413 in the caller's format); Kestrel's own
            // limit only guards against absurd sizes.
            kestrel.Limits.MaxRequestBodySize = Math.Max(config.Server.MaxRequestBodyBytes, config.Server.GrpcMaxMessageBytes) * 2;
            kestrel.Listen(address, config.Server.HttpPort, o =>
            {
                o.Protocols = HttpProtocols.Http1AndHttp2;
                listeners.Http = o;
            });
            kestrel.Listen(address, config.Server.GrpcPort, o =>
            {
                // gRPC is HTTP/2 only; with cleartext there is no negotiation, so h2c prior knowledge.
                o.Protocols = HttpProtocols.Http2;
                listeners.Grpc = o;
            });
        });

        builder.Services.AddSingleton(listeners);
        builder.Services.AddSingleton(config);
        builder.Services.AddSingleton(runtime);
        builder.Services.AddSingleton<IInferenceRouter>(runtime.Router);
        builder.Services.AddSingleton<IRouterAdmin>(runtime);
        if (machine is not null)
        {
            builder.Services.AddSingleton(machine);
        }

        var app = builder.Build();
        SurfaceWiring.Map(app, listeners);
        return app;
    }

    private static string UriHost(string host) =>
        host is "0.0.0.0" ? "127.0.0.1" : host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host;

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        await Runtime.DisposeAsync().ConfigureAwait(false);
        foreach (var simulator in _simulators)
        {
            await simulator.DisposeAsync().ConfigureAwait(false);
        }
    }

    public Task WaitForShutdownAsync(CancellationToken cancellationToken) => _app.WaitForShutdownAsync(cancellationToken);
}

/// <summary>The two listeners, so surfaces can tell which port a request came in on.</summary>
internal sealed class ListenerPorts
{
    public ListenOptions? Http { get; set; }
    public ListenOptions? Grpc { get; set; }
    /// <summary>The bound gRPC port, set once the server has started.</summary>
    public int GrpcPort { get; set; } = -1;
}
