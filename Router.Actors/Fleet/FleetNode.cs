using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Cluster;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Hosting;
using Akka.Hosting.Logging;
using Microsoft.Extensions.Logging;
using Router.Actors.Config;
using Router.Actors.Inference;
using Router.Actors.Routing;

namespace Router.Actors.Fleet;

/// <summary>
/// This router's place in the fleet. The fleet runs in an actor system of its own (cluster provider,
/// remoting), beside the router's (local only), for two reasons: the router's actors are never
/// reachable from the network, and a node the fleet downs (the split-brain resolver ends its fleet
/// system) starts a fresh fleet system and joins again by itself, while the router goes on serving
/// its own backends and its streams in flight. The <see cref="FleetDirectoryActor"/> in the router's
/// system outlives every fleet system and holds the remote backends.
/// </summary>
public sealed partial class FleetNode : IAsyncDisposable
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan LeaveTimeout = TimeSpan.FromSeconds(5);

    private readonly ClusterConfig _config;
    private readonly ActorSystem _routerSystem;
    private readonly IActorRef _directory;
    private readonly ILoggerFactory? _loggers;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stopping = new();
    private ActorSystem? _system;
    private Task _supervision = Task.CompletedTask;

    private FleetNode(ClusterConfig config, ActorSystem routerSystem, IActorRef directory, FleetNodeSettings settings, ILoggerFactory? loggers)
    {
        _config = config;
        _routerSystem = routerSystem;
        _directory = directory;
        Settings = settings;
        _loggers = loggers;
        _log = loggers?.CreateLogger("Router.Fleet") ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
    }

    /// <summary>This node's name in the fleet.</summary>
    public string NodeName => Settings.NodeName;

    /// <summary>Where peers forward requests to.</summary>
    public Uri HttpEndpoint => Settings.HttpEndpoint;

    /// <summary>The address remoting listens on now (it changes when a downed node rejoins with port 0).</summary>
    public string? Address => _system is { } system ? Cluster.Get(system).SelfAddress.ToString() : null;

    internal FleetNodeSettings Settings { get; }

    /// <summary>
    /// Joins the fleet <paramref name="runtime"/>'s configuration describes (its seed nodes, or a fleet
    /// of its own when there are none). <paramref name="httpEndpoint"/> is the router's bound HTTP
    /// address, whose port peers forward to.
    /// </summary>
    public static async Task<FleetNode> StartAsync(RouterRuntime runtime, Uri httpEndpoint, ILoggerFactory? loggers, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentNullException.ThrowIfNull(httpEndpoint);
        var config = runtime.Config.Cluster;
        if (!config.Enabled)
        {
            throw new InvalidOperationException("The fleet is not enabled (cluster.enabled = false).");
        }

        var settings = new FleetNodeSettings(NodeNameFor(config), AdvertisedEndpoint(config, httpEndpoint), config.SharedSecret);
        var system = runtime.System;
        var local = await runtime.GetBackendsAsync(cancellationToken).ConfigureAwait(false);
        var publisher = await ActorRegistry.For(system).GetAsync<RoutingTablePublisher>(cancellationToken).ConfigureAwait(false);
        var directory = system.ActorOf(
            Props.Create(() => new FleetDirectoryActor(settings, runtime.Backends, publisher, local.Where(b => b.Node == null), runtime.TimeProvider)),
            FleetDirectoryActor.Name);
        FleetDirectoryActor.Subscribe(system, directory);
        ActorRegistry.For(system).TryRegister<FleetDirectoryActor>(directory);

        var node = new FleetNode(config, system, directory, settings, loggers);
        try
        {
            node.StartFleetSystem();
        }
        catch (Exception e)
        {
            system.Stop(directory);
            // Most often the port: say which, and what to do, as for the HTTP and gRPC listeners.
            throw new IOException($"the fleet cannot listen on {config.Hostname}:{config.Port} ({e.GetBaseException().Message}); "
                + "set cluster.port to a free port (0 lets the system choose one)", e);
        }

        node._supervision = node.SuperviseAsync();
        return node;
    }

    /// <summary>How the fleet looks from this node, for <c>/cluster</c>.</summary>
    public Task<FleetStatus> GetStatusAsync(CancellationToken cancellationToken) =>
        _directory.Ask<FleetStatus>(GetFleetStatus.Instance, AskTimeout, cancellationToken);

    /// <summary>The fleet directory of a router's actor system, when the fleet runs there.</summary>
    public static async Task<FleetStatus?> GetStatusAsync(ActorSystem routerSystem, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(routerSystem);
        return ActorRegistry.For(routerSystem).TryGet<FleetDirectoryActor>(out var directory)
            ? await directory.Ask<FleetStatus>(GetFleetStatus.Instance, AskTimeout, cancellationToken).ConfigureAwait(false)
            : null;
    }

    /// <param name="peers">When joining again: the members last seen, tried before founding a fleet anew (for a node without configured seeds).</param>
    private void StartFleetSystem(IReadOnlyList<Address>? peers = null)
    {
        var config = FleetActorSystemConfig.For(_config).WithFallback(DistributedPubSub.DefaultConfig());
        ActorSystemSetup setup;
        if (_loggers is not null)
        {
            config = Akka.Configuration.ConfigurationFactory.ParseString("akka.loggers = [\"Akka.Hosting.Logging.LoggerFactoryLogger, Akka.Hosting\"]").WithFallback(config);
            setup = BootstrapSetup.Create().WithConfig(config).And(new LoggerFactorySetup(_loggers));
        }
        else
        {
            setup = ActorSystemSetup.Create(BootstrapSetup.Create().WithConfig(config));
        }

        if (_config.Ssl.Enabled)
        {
            // The certificate and the peer check are code, not HOCON: Akka's HOCON can only accept
            // every certificate or validate chains, and the fleet accepts exactly its own (FleetTls).
            setup = setup.And(FleetTls.SetupFor(_config.Ssl));
        }

        var system = ActorSystem.Create(FleetAddresses.SystemName, setup);
        var cluster = Cluster.Get(system);
        var member = system.ActorOf(
            Props.Create(() => new FleetMemberActor(_directory, _config.PublishInterval, _config.RoundTripInterval)),
            FleetMemberActor.Name);
        _directory.Tell(new FleetMemberStarted(member, cluster.SelfAddress.ToString()));

        var seeds = new List<Address>();
        foreach (var seed in _config.SeedNodes)
        {
            if (FleetAddresses.TryParseSeed(seed, _config.Ssl.Enabled, out var address, out _))
            {
                seeds.Add(address);
            }
        }

        if (seeds.Count == 0 && peers is { Count: > 0 })
        {
            // A founder the fleet downed: itself first, so Akka asks the members it knew and joins
            // them if one answers, and founds a fleet anew only if none does within seed-node-timeout.
            seeds.Add(cluster.SelfAddress);
            seeds.AddRange(peers);
            cluster.JoinSeedNodes(seeds);
        }
        else if (seeds.Count == 0)
        {
            // No seed: this node founds the fleet; the others name it as their seed.
            cluster.Join(cluster.SelfAddress);
        }
        else
        {
            cluster.JoinSeedNodes(seeds);
        }

        _system = system;
        Log.Joined(_log, Settings.NodeName, cluster.SelfAddress.ToString(), seeds.Count == 0 ? "none (founding a fleet)" : string.Join(", ", seeds));
    }

    /// <summary>A fleet system that ends while the router runs was downed: start another, which joins again.</summary>
    private async Task SuperviseAsync()
    {
        while (_system is { } system)
        {
            await system.WhenTerminated.ConfigureAwait(false);
            if (_stopping.IsCancellationRequested)
            {
                return;
            }

            var reason = $"the fleet removed this node (downed); joining again in {_config.RejoinAfter.TotalSeconds:0.#} s";
            Log.Downed(_log, Settings.NodeName, _config.RejoinAfter.TotalSeconds);
            var peers = await LastSeenPeersAsync().ConfigureAwait(false);
            _directory.Tell(new FleetMemberStopped(reason));
            while (!_stopping.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(_config.RejoinAfter, _stopping.Token).ConfigureAwait(false);
                    StartFleetSystem(peers);
                    break;
                }
                catch (OperationCanceledException)
                {
                    return;
                }
#pragma warning disable CA1031 // Any failure to start (a port still in use) is retried; the router keeps serving meanwhile.
                catch (Exception e)
#pragma warning restore CA1031
                {
                    Log.RejoinFailed(_log, e);
                }
            }
        }
    }

    private async Task<List<Address>> LastSeenPeersAsync()
    {
        var peers = new List<Address>();
        try
        {
            var status = await GetStatusAsync(_stopping.Token).ConfigureAwait(false);
            foreach (var member in status.Members)
            {
                if (!member.Self && FleetAddresses.TryParseSeed(member.Address, _config.Ssl.Enabled, out var address, out _))
                {
                    peers.Add(address);
                }
            }
        }
        catch (Exception e) when (e is AskTimeoutException or OperationCanceledException)
        {
            // Nothing known: join as configured.
        }

        return peers;
    }

    /// <summary>Leaves the fleet gracefully (peers drop this node's backends at once), then stops the fleet system.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_system is { } system)
        {
            try
            {
                await Cluster.Get(system).LeaveAsync().WaitAsync(LeaveTimeout).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Peers will see this node unreachable instead, and drop it after their failure detector's time.
            }

            await system.Terminate().ConfigureAwait(false);
        }

        await _supervision.ConfigureAwait(false);
        _directory.Tell(new FleetMemberStopped("stopping"));
        _routerSystem.Stop(_directory);
        _stopping.Dispose();
    }

    /// <summary>The configured name, else this machine's host name reduced to the characters a node name may hold.</summary>
    internal static string NodeNameFor(ClusterConfig config)
    {
        if (config.NodeName.Length > 0)
        {
            return config.NodeName;
        }

        var name = new string([.. Environment.MachineName.ToLowerInvariant().Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')]);
        return name.Length > 0 ? name : "node";
    }

    /// <summary>The configured HTTP endpoint, else the remoting host with the router's bound HTTP port.</summary>
    internal static Uri AdvertisedEndpoint(ClusterConfig config, Uri bound)
    {
        if (config.HttpEndpoint is { } configured)
        {
            return configured;
        }

        var host = config.Hostname.Contains(':', StringComparison.Ordinal) && !config.Hostname.StartsWith('[') ? $"[{config.Hostname}]" : config.Hostname;
        return new UriBuilder(bound.Scheme, host, bound.Port).Uri;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1801, Level = LogLevel.Information, Message = "Fleet: node {Node} at {Address}, seed nodes: {Seeds}")]
        public static partial void Joined(ILogger logger, string node, string address, string seeds);

        [LoggerMessage(EventId = 1802, Level = LogLevel.Warning, Message = "Fleet: node {Node} was downed by the fleet (split-brain resolver, or unreachable too long); serving its own backends and joining again in {Seconds} s")]
        public static partial void Downed(ILogger logger, string node, double seconds);

        [LoggerMessage(EventId = 1803, Level = LogLevel.Error, Message = "Fleet: could not start the fleet system again; retrying")]
        public static partial void RejoinFailed(ILogger logger, Exception exception);
    }
}
