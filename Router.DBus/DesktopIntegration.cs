using Microsoft.Extensions.Logging;
using Router.Actors.Backends;
using Router.Actors.Config;
using Router.Actors.Inference;
using Router.Actors.Routing;
using Router.Actors.State;
using Router.DBus.Export;
using Router.DBus.Notifications;
using Router.DBus.Power;
using Tmds.DBus.Protocol;

namespace Router.DBus;

/// <summary>
/// Where the desktop's buses are. Null takes them from the environment
/// (DBUS_SESSION_BUS_ADDRESS, DBUS_SYSTEM_BUS_ADDRESS); tests give private buses.
/// </summary>
public sealed record DesktopBusAddresses
{
    public string? Session { get; init; }
    public string? System { get; init; }
}

/// <summary>
/// The router on the desktop: the ie.fio.OllamaProxy objects on the session bus, the machine's power
/// state from UPower and power-profiles-daemon on the system bus, and desktop notifications. The
/// host calls <see cref="PrepareAsync"/> before the runtime starts (it brings a power source and a
/// request observer) and <see cref="StartAsync"/> once the runtime runs.
/// </summary>
public sealed class DesktopIntegration : IAsyncDisposable
{
    private readonly RouterConfig _config;
    private readonly string? _sessionAddress;
    private readonly RequestRelay _requests;
    private readonly DesktopPowerSource? _power;
    private RouterBus? _bus;
    private DesktopNotifier? _notifier;

    private DesktopIntegration(RouterConfig config, string? sessionAddress, RequestRelay requests, DesktopPowerSource? power)
    {
        _config = config;
        _sessionAddress = sessionAddress;
        _requests = requests;
        _power = power;
    }

    /// <summary>True when AC and battery come from UPower rather than from the power source it wraps.</summary>
    public bool ReadsPowerFromDesktop => _power?.State.OnBattery is not null;

    /// <summary>The session-bus address the router is exported on, or null while it is not.</summary>
    public string? SessionBusAddress => _bus?.Address;

    /// <summary>
    /// Chains its request observer into the runtime's options and, with <c>desktop.power-state</c>
    /// and a real machine, puts UPower and power-profiles-daemon in front of the power source the
    /// options have (sysfs, which stays the source of whatever they do not say).
    /// </summary>
    /// <param name="simulatedMachine">The machine is simulated (--simulate): its battery and AC are the simulation's, not the desktop's.</param>
    public static async Task<(DesktopIntegration Desktop, RouterRuntimeOptions Runtime)> PrepareAsync(
        RouterConfig config, RouterRuntimeOptions runtime, DesktopBusAddresses? addresses, bool simulatedMachine, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentNullException.ThrowIfNull(loggers);
        addresses ??= new DesktopBusAddresses();
        var relay = new RequestRelay(runtime.Observer);
        runtime = runtime with { Observer = relay };

        DesktopPowerSource? power = null;
        if (config.Desktop.PowerState && !simulatedMachine && runtime.PowerSource is { } fallback)
        {
            power = await DesktopPowerSource.StartAsync(addresses.System ?? DBusAddress.System, fallback, loggers.CreateLogger("Router.Power"), cancellationToken).ConfigureAwait(false);
            if (power is not null)
            {
                runtime = runtime with { PowerSource = power };
            }
        }

        var session = addresses.Session ?? DBusAddress.Session;
        return (new DesktopIntegration(config, string.IsNullOrEmpty(session) ? null : session, relay, power), runtime);
    }

    /// <summary>
    /// Exports the router on the session bus when <c>dbus.enabled</c> and a session bus is
    /// reachable (else one info line says why not), and starts desktop notifications when
    /// <c>desktop.notifications</c>.
    /// </summary>
    /// <param name="energyWh">Energy used so far, for Routing.GetStats (the host's meter); null sums the router's estimates.</param>
    /// <exception cref="BusNameTakenException">Another process owns the name and <c>dbus.require-name</c> is on.</exception>
    public async Task StartAsync(RouterRuntime runtime, ILoggerFactory loggers, Func<double>? energyWh, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentNullException.ThrowIfNull(loggers);
        var logger = loggers.CreateLogger("Router.DBus");
        if (_power is { } power)
        {
            // A change UPower or power-profiles-daemon signals reaches Auto now, not at the next sample.
            power.Changed = runtime.SampleNow;
            runtime.SampleNow();
        }

        if (_sessionAddress is not { } address)
        {
            DesktopLog.NoSessionBus(logger);
            return;
        }

        if (_config.Desktop.Notifications)
        {
            _notifier = await DesktopNotifier.StartAsync(address, TimeProvider.System, _config.Desktop.NotificationInterval, loggers.CreateLogger("Router.Notifications"), cancellationToken).ConfigureAwait(false);
            if (_notifier is { } notifier)
            {
                runtime.Observe<EfficiencyModeChanged>("desktop-notify-mode", notifier.OnModeChanged);
                runtime.Observe<ThermalEvent>("desktop-notify-thermal", notifier.OnThermalEvent);
            }
        }

        if (!_config.DBus.Enabled)
        {
            DesktopLog.DBusDisabled(logger);
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
        runtime.Observe<RemoteBackendsChanged>("dbus-fleet-backends", bus.OnRemoteBackends);
        runtime.Observe<ThermalEvent>("dbus-thermal", bus.OnThermalEvent);
        _requests.Target = bus.Routing;
        // What was published between reading the initial state and subscribing above.
        bus.RefreshSystemState(await runtime.GetSystemStateAsync(cancellationToken).ConfigureAwait(false));
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

        _notifier?.Dispose();
        _notifier = null;
        if (_power is { } power)
        {
            power.Changed = null;
            power.Dispose();
        }
    }
}
