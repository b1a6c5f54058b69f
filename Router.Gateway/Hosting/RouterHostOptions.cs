using Router.Actors.Config;
using Router.Actors.Inference;

namespace Router.Gateway.Hosting;

/// <summary>How to run the daemon, beyond its configuration (command line and tests).</summary>
internal sealed record RouterHostOptions
{
    /// <summary>Start the four simulated devices in-process and route to them.</summary>
    public bool Simulate { get; init; }
    /// <summary>Simulator speed: 1 is real time, 0 answers with no think time.</summary>
    public double SimulationTimeScale { get; init; } = 1.0;
    /// <summary>Overrides for tests: port 0 binds an ephemeral port.</summary>
    public int? HttpPort { get; init; }
    public int? GrpcPort { get; init; }
    /// <summary>Replaces parts of the runtime (time, sources, clients) in tests.</summary>
    public RouterRuntimeOptions Runtime { get; init; } = new();
    /// <summary>The desktop's buses; by default from the environment (tests give private ones).</summary>
    public Router.DBus.DesktopBusAddresses? DesktopBuses { get; init; }
    /// <summary>Log to the console (the daemon) or not at all (tests).</summary>
    public bool ConsoleLogging { get; init; } = true;

    public RouterConfig Apply(RouterConfig config) => config with
    {
        Server = config.Server with
        {
            HttpPort = HttpPort ?? config.Server.HttpPort,
            GrpcPort = GrpcPort ?? config.Server.GrpcPort,
        },
    };
}
