using Microsoft.Extensions.Logging;
using Router.Actors.Backends;
using Router.Actors.Config;
using Router.Actors.Inference;
using Router.Actors.Routing;
using Router.Actors.State;
using Router.DBus.Export;
using Tmds.DBus.Protocol;

namespace Router.DBus;

/// <summary>Where the desktop's buses are; null takes them from the environment (DBUS_SESSION_BUS_ADDRESS, DBUS_SYSTEM_BUS_ADDRESS).</summary>
public sealed record DesktopBusAddresses
{
    public string? Session { get; init; }
    public string? System { get; init; }
}

/// <summary>
/// The router on the desktop: the ie.fio.OllamaProxy objects on the session bus, the machine's power
/// state from UPower and power-profiles-daemon on the system bus, and desktop notifications. The
/// host calls <see cref="Prepare"/> before the runtime starts (it brings a power source and a
/// request observer) and <see cref="StartAsync"/> once it runs.
/// </summary>
public sealed class DesktopIntegration : IAsyncDisposable
{
    private readonly RouterConfig _config;
    private readonly DesktopBusAddresses _addresses;
    private readonly RequestRelay _requests;
    private RouterBus? _bus;

    private DesktopIntegration(RouterConfig config, DesktopBusAddresses addresses, RequestRelay requests)
    {
        _config = config;
        _addresses = addresses;
        _requests = requests;
    }

    /// <summary>The session-bus address the router is exported on, or null while it is not.</summary>
    public string? SessionBusAddress => _bus?.Address;

    /// <summary>Chains its request observer into <paramref name="runtime"/>.</summary>
    public static DesktopIntegration Prepare(RouterConfig config, ref RouterRuntimeOptions runtime, DesktopBusAddresses? addresses = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(runtime);
        var relay = new RequestRelay(runtime.Observer);
        runtime = runtime with { Observer = relay };
        return new DesktopIntegration(config, addresses ?? new DesktopBusAddresses(), relay);
    }

    /// <summary>
    /// Exports the router on the session bus when <c>dbus.enabled</c> and a session bus is
    /// reachable (else one info line says why not).
    /// </summary>
    /// <param name="energyWh">Energy used so far, for Routing.GetStats (the host's meter); null sums the router's estimates.</param>
    /// <exception cref="BusNameTakenException">Another process owns the name and <c>dbus.require-name</c> is on.</exception>
    public async Task StartAsync(RouterRuntime runtime, ILoggerFactory loggers, Func<double>? energyWh, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentNullException.ThrowIfNull(loggers);
        var logger = loggers.CreateLogger("Router.DBus");
        if (!_config.DBus.Enabled)
        {
            DesktopLog.DBusDisabled(logger);
            return;
        }

        var address = _addresses.Session ?? DBusAddress.Session;
        if (string.IsNullOrEmpty(address))
        {
            DesktopLog.NoSessionBus(logger);
            return;
        }

        var sources = new RouterBusSources(runtime, runtime.Router, _config.Backends, TimeProvider.System,
            ScoringOptions.FromConfig(_config.Routing).UltraEfficiencyMaxWatts, energyWh);
        _bus = await RouterBus.StartAsync(address, _config.DBus, sources, loggers, cancellationToken).ConfigureAwait(false);
        if (_bus is not { } bus)
        {
            return;
        }

        runtime.Observe<SystemState>("dbus-system-state", bus.OnSystemState);
        runtime.Observe<BackendSnapshot>("dbus-backends", bus.OnBackendSnapshot);
        runtime.Observe<BackendHealthChanged>("dbus-backend-health", bus.OnBackendHealthChanged);
        runtime.Observe<ThermalEvent>("dbus-thermal", bus.OnThermalEvent);
        _requests.Target = bus.Routing;
        // What was published between reading the initial state and subscribing above.
        bus.OnSystemState(await runtime.GetSystemStateAsync(cancellationToken).ConfigureAwait(false));
        foreach (var snapshot in await runtime.GetBackendsAsync(cancellationToken).ConfigureAwait(false))
        {
            bus.OnBackendSnapshot(snapshot);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _requests.Target = null;
        if (_bus is { } bus)
        {
            _bus = null;
            await bus.DisposeAsync().ConfigureAwait(false);
        }
    }
}
