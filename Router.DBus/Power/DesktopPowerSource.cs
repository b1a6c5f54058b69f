using Microsoft.Extensions.Logging;
using Router.Actors.State;
using Tmds.DBus.Protocol;

namespace Router.DBus.Power;

/// <summary>
/// Power readings from the desktop: AC, battery and time to empty from UPower, the active profile
/// from power-profiles-daemon, both on the system bus and followed through their signals. Measured
/// watts, and whatever UPower does not say (all of it where UPower is absent), come from the
/// source it wraps (sysfs power_supply). Calls <see cref="Changed"/> when the desktop's state
/// changes, so the power actor samples at once instead of at its next interval.
/// </summary>
internal sealed partial class DesktopPowerSource : IPowerSource, IDisposable
{
    private readonly IPowerSource _fallback;
    private readonly DBusConnection _connection;
    private readonly RemoteProperties _upower;
    private readonly RemoteProperties _display;
    private readonly RemoteProperties _profiles;
    private readonly RemoteProperties _legacyProfiles;
    private DesktopPowerState _state = DesktopPowerState.Unknown;

    private DesktopPowerSource(IPowerSource fallback, DBusConnection connection)
    {
        _fallback = fallback;
        _connection = connection;
        _upower = new RemoteProperties(connection, DesktopPower.UPowerService, DesktopPower.UPowerPath, DesktopPower.UPowerService, Recompute);
        _display = new RemoteProperties(connection, DesktopPower.UPowerService, DesktopPower.DisplayDevicePath, DesktopPower.DeviceInterface, Recompute);
        _profiles = new RemoteProperties(connection, DesktopPower.ProfilesService, DesktopPower.ProfilesPath, DesktopPower.ProfilesService, Recompute);
        _legacyProfiles = new RemoteProperties(connection, DesktopPower.LegacyProfilesService, DesktopPower.LegacyProfilesPath, DesktopPower.LegacyProfilesService, Recompute);
    }

    /// <summary>Called (from a bus thread) whenever what UPower or power-profiles-daemon say changes.</summary>
    public Action? Changed { get; set; }

    public DesktopPowerState State => Volatile.Read(ref _state);

    /// <summary>
    /// Connects to the system bus and reads UPower and power-profiles-daemon. Returns null (after one
    /// log line) when the system bus cannot be reached; the fallback then stays the only source.
    /// </summary>
    public static async Task<DesktopPowerSource?> StartAsync(string? address, IPowerSource fallback, ILogger logger, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(address))
        {
            Log.NoSystemBus(logger);
            return null;
        }

        var connection = new DBusConnection(new DBusConnectionOptions(address) { AutoConnect = false });
        var source = new DesktopPowerSource(fallback, connection);
        try
        {
            await connection.ConnectAsync().AsTask().WaitAsync(cancellationToken).ConfigureAwait(false);
            await Task.WhenAll(source._upower.StartAsync(), source._display.StartAsync(), source._profiles.StartAsync(), source._legacyProfiles.StartAsync())
                .WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is DBusConnectionException or IOException or System.Net.Sockets.SocketException)
        {
            source.Dispose();
            Log.SystemBusUnreachable(logger, address, exception.Message);
            return null;
        }

        var state = source.State;
        Log.Started(logger, state.OnBattery is null ? "absent (sysfs power_supply instead)" : "present", state.PowerProfile ?? "absent");
        return source;
    }

    public async ValueTask<PowerReading> ReadPowerAsync(CancellationToken cancellationToken)
    {
        var reading = await _fallback.ReadPowerAsync(cancellationToken).ConfigureAwait(false);
        var desktop = State;
        if (desktop.OnBattery is { } onBattery)
        {
            reading = reading with { OnAcPower = !onBattery, BatteryPercent = desktop.BatteryPercent, TimeToEmpty = desktop.TimeToEmpty };
        }

        return reading with { PowerProfile = desktop.PowerProfile };
    }

    private void Recompute()
    {
        var next = DesktopPower.Combine(_upower.Values, _display.Values, _profiles.Values, _legacyProfiles.Values);
        var previous = Interlocked.Exchange(ref _state, next);
        if (previous != next)
        {
            Changed?.Invoke();
        }
    }

    public void Dispose()
    {
        _upower.Dispose();
        _display.Dispose();
        _profiles.Dispose();
        _legacyProfiles.Dispose();
        _connection.Dispose();
    }
}
