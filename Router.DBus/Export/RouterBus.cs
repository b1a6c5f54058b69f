using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Router.Actors.Backends;
using Router.Actors.Config;
using Router.Actors.Inference;
using Router.Actors.Routing;
using Router.Actors.State;
using Router.DBus.Contract;
using Tmds.DBus.Protocol;

namespace Router.DBus.Export;

/// <summary>
/// The router on the session bus: owns the connection and the name <c>ie.fio.OllamaProxy</c>,
/// exports the five objects, feeds them the runtime's events, and reconnects (with back-off) when
/// the bus goes away and comes back.
/// </summary>
internal sealed partial class RouterBus : IAsyncDisposable
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LastRetry = TimeSpan.FromSeconds(30);

    private readonly string _address;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly BusLink _link;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ImmutableArray<ExportedObject> _objects;
    private Task _watch = Task.CompletedTask;

    private RouterBus(string address, TimeProvider time, ILogger logger, BusLink link, SystemStateWatch state,
        EfficiencyObject efficiency, BackendsObject backends, RoutingObject routing, ThermalObject thermal, SystemStateObject system)
    {
        _address = address;
        _time = time;
        _logger = logger;
        _link = link;
        State = state;
        Efficiency = efficiency;
        Backends = backends;
        Routing = routing;
        Thermal = thermal;
        SystemStateObject = system;
        _objects = [efficiency, backends, routing, thermal, system];
    }

    public SystemStateWatch State { get; }
    public EfficiencyObject Efficiency { get; }
    public BackendsObject Backends { get; }
    public RoutingObject Routing { get; }
    public ThermalObject Thermal { get; }
    public SystemStateObject SystemStateObject { get; }

    /// <summary>The session-bus address it is on.</summary>
    public string Address => _address;

    /// <summary>
    /// Connects to the session bus at <paramref name="address"/>, exports the objects and takes the
    /// name. Returns null (after one log line) when the bus cannot be reached, or when the name is
    /// taken and <see cref="DBusConfig.RequireName"/> is off.
    /// </summary>
    /// <exception cref="BusNameTakenException">The name is taken and <see cref="DBusConfig.RequireName"/> is on.</exception>
    public static async Task<RouterBus?> StartAsync(string address, DBusConfig config, RouterBusSources sources, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(loggers);
        var logger = loggers.CreateLogger("Router.DBus");
        var initialState = await sources.Admin.GetSystemStateAsync(cancellationToken).ConfigureAwait(false);
        var initialBackends = await sources.Admin.GetBackendsAsync(cancellationToken).ConfigureAwait(false);
        var state = new SystemStateWatch(initialState);
        var link = new BusLink();
        var service = new RouterBus(address, sources.Time, logger, link, state,
            new EfficiencyObject(link, sources.Admin, state, sources.UltraEfficiencyMaxWatts, logger),
            new BackendsObject(link, sources.Backends, initialBackends, state, logger),
            new RoutingObject(link, sources.Router, sources.Time, config.RequestRoutedSignal, config.RequestRoutedPerSecond, sources.EnergyWh, logger),
            new ThermalObject(link, state, logger),
            new SystemStateObject(link, state, logger));

        DBusConnection connection;
        try
        {
            connection = await service.ConnectAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is DBusConnectionException or IOException or System.Net.Sockets.SocketException)
        {
            Log.BusUnreachable(logger, address, exception.Message);
            return null;
        }

        if (!await TryTakeNameAsync(connection).ConfigureAwait(false))
        {
            connection.Dispose();
            if (config.RequireName)
            {
                throw new BusNameTakenException(
                    $"another process already owns {BusContract.BusName} on the session bus (is another ollama-proxy running? " +
                    "stop it, or set dbus.require-name = false to run this one without D-Bus)");
            }

            Log.NameTakenRunningWithout(logger, BusContract.BusName);
            return null;
        }

        service.Attach(connection);
        Log.Exported(logger, BusContract.BusName, address);
        return service;
    }

    private Task<DBusConnection> ConnectAsync(CancellationToken cancellationToken) => ConnectAsync(_address, cancellationToken);

    private async Task<DBusConnection> ConnectAsync(string address, CancellationToken cancellationToken)
    {
        var connection = new DBusConnection(new DBusConnectionOptions(address) { AutoConnect = false });
        try
        {
            await connection.ConnectAsync().AsTask().WaitAsync(cancellationToken).ConfigureAwait(false);
            // Handlers before the name: a caller that sees the name appear finds the objects there.
            connection.AddMethodHandlers([.. _objects]);
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Takes the name without replacing its owner and without letting anyone take it from us.</summary>
    private static Task<bool> TryTakeNameAsync(DBusConnection connection) =>
        connection.TryRequestNameAsync(BusContract.BusName, RequestNameOptions.None);

    private void Attach(DBusConnection connection)
    {
        foreach (var exported in _objects)
        {
            exported.ResetAnnounced();
        }

        _link.Connection = connection;
        _watch = WatchAsync(connection);
    }

    /// <summary>Waits for the connection to drop, then reconnects with back-off until it is back or this is disposed.</summary>
    private async Task WatchAsync(DBusConnection connection)
    {
        var stopping = _stopping.Token;
        while (!stopping.IsCancellationRequested)
        {
            var reason = await connection.DisconnectedAsync().WaitAsync(stopping).ConfigureAwait(false);
            _link.Connection = null;
            connection.Dispose();
            Log.Disconnected(_logger, _address, reason?.Message ?? "closed");

            var delay = FirstRetry;
            while (true)
            {
                await Task.Delay(delay, _time, stopping).ConfigureAwait(false);
                try
                {
                    connection = await ConnectAsync(WithoutGuid(_address), stopping).ConfigureAwait(false);
                    if (await TryTakeNameAsync(connection).ConfigureAwait(false))
                    {
                        break;
                    }

                    connection.Dispose();
                    Log.NameTakenOnReconnect(_logger, BusContract.BusName);
                }
                catch (Exception exception) when (exception is DBusConnectionException or IOException or System.Net.Sockets.SocketException)
                {
                    Log.ReconnectFailed(_logger, _address, exception.Message, delay.TotalSeconds);
                }

                delay = delay * 2 < LastRetry ? delay * 2 : LastRetry;
            }

            foreach (var exported in _objects)
            {
                exported.ResetAnnounced();
            }

            _link.Connection = connection;
            Log.Reconnected(_logger, BusContract.BusName, _address);
        }
    }

    /// <summary>
    /// The address without its <c>guid=</c>: a restarted bus has a new one, and a client that
    /// insists on the old guid would never get back on.
    /// </summary>
    internal static string WithoutGuid(string address) =>
        string.Join(';', address.Split(';').Select(static entry =>
        {
            var colon = entry.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                return entry;
            }

            var keys = entry[(colon + 1)..].Split(',').Where(static kv => !kv.StartsWith("guid=", StringComparison.Ordinal));
            return entry[..(colon + 1)] + string.Join(',', keys);
        }));

    // Events from the runtime. Each comes from one observer at a time; different kinds may overlap.

    public void OnSystemState(SystemState state) => Announce(State.Update(state), state);

    /// <summary>The state as read by asking, right after subscribing: taken only if no event has come yet.</summary>
    public void RefreshSystemState(SystemState state)
    {
        if (State.TryRefresh(state, out var previous))
        {
            Announce(previous, state);
        }
    }

    private void Announce(SystemState previous, SystemState state)
    {
        Efficiency.OnStateChanged(previous, state);
        SystemStateObject.OnStateChanged(previous, state);
        Thermal.OnStateChanged();
    }

    public void OnBackendSnapshot(BackendSnapshot snapshot) => Backends.OnSnapshot(snapshot);

    public void OnBackendHealthChanged(BackendHealthChanged change) => Backends.OnHealthChanged(change);

    public void OnRemoteBackends(RemoteBackendsChanged change) => Backends.OnRemoteBackends(change.Backends);

    public void OnThermalEvent(ThermalEvent e) => Thermal.OnThermalEvent(e);

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _watch.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopped while waiting or reconnecting.
        }

        var connection = _link.Connection;
        _link.Connection = null;
        connection?.Dispose();
        Routing.Dispose();
        _stopping.Dispose();
    }
}

/// <summary>What the exported objects read and call.</summary>
internal sealed record RouterBusSources(
    IRouterAdmin Admin,
    IInferenceRouter Router,
    ImmutableArray<BackendConfig> Backends,
    TimeProvider Time,
    double UltraEfficiencyMaxWatts,
    Func<double>? EnergyWh);
