using Microsoft.Extensions.Logging;
using Router.Actors.Routing;
using Router.Actors.State;
using Tmds.DBus.Protocol;

namespace Router.DBus.Notifications;

/// <summary>
/// Desktop notifications (org.freedesktop.Notifications on the session bus) for what a user would
/// want to know without looking: Auto changed the mode in effect, or a device went over its
/// thermal limit. At most one per <c>desktop.notification-interval</c>; the ones in between are
/// dropped (the next one says how things are then). Each replaces the previous one on screen.
/// </summary>
internal sealed partial class DesktopNotifier : IDisposable
{
    private const string Service = "org.freedesktop.Notifications";
    private const string Path = "/org/freedesktop/Notifications";
    private const string AppName = "Ollama Proxy";

    private readonly DBusConnection _connection;
    private readonly TimeProvider _time;
    private readonly TimeSpan _interval;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    // Guarded by _lock.
    private long _lastSent = long.MinValue;
    private uint _lastId;
    private Task _previous = Task.CompletedTask;

    private DesktopNotifier(DBusConnection connection, TimeProvider time, TimeSpan interval, ILogger logger)
    {
        _connection = connection;
        _time = time;
        _interval = interval;
        _logger = logger;
    }

    /// <summary>Connects to the session bus; null (after one log line) when it cannot be reached.</summary>
    public static async Task<DesktopNotifier?> StartAsync(string address, TimeProvider time, TimeSpan interval, ILogger logger, CancellationToken cancellationToken)
    {
        var connection = new DBusConnection(new DBusConnectionOptions(address) { AutoConnect = false });
        try
        {
            await connection.ConnectAsync().AsTask().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is DBusConnectionException or IOException or System.Net.Sockets.SocketException)
        {
            connection.Dispose();
            Log.Unreachable(logger, address, exception.Message);
            return null;
        }

        return new DesktopNotifier(connection, time, interval, logger);
    }

    /// <summary>Auto's own change of the mode in effect (a change the user made is not news to them).</summary>
    public void OnModeChanged(EfficiencyModeChanged change)
    {
        if (change.Mode == EfficiencyMode.Auto && change.From != change.To)
        {
            Send($"AI efficiency: {WireNames.ToWire(change.To)}", $"Auto switched from {WireNames.ToWire(change.From)}: {change.Reason}", "dialog-information");
        }
    }

    /// <summary>A device over its thermal limit (it is excluded from routing until it cools).</summary>
    public void OnThermalEvent(ThermalEvent e)
    {
        if (e.Kind == "over-limit")
        {
            Send($"{e.BackendId ?? "A device"} is too hot", e.Message, "dialog-warning");
        }
    }

    /// <summary>Sends one notification unless one went out less than the interval ago; true when sent.</summary>
    internal bool Send(string summary, string body, string icon)
    {
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            if (_lastSent != long.MinValue && _time.GetElapsedTime(_lastSent, now) < _interval)
            {
                Log.Dropped(_logger, summary);
                return false;
            }

            _lastSent = now;
            _previous = NotifyAsync(summary, body, icon, _previous);
        }

        return true;
    }

    /// <summary>Sends after the previous notification has its id, so this one replaces it on screen.</summary>
    private async Task NotifyAsync(string summary, string body, string icon, Task previous)
    {
        await previous.ConfigureAwait(false);
        uint replaces;
        lock (_lock)
        {
            replaces = _lastId;
        }

        try
        {
            MessageBuffer call;
            var writer = _connection.GetMessageWriter();
            try
            {
                writer.WriteMethodCallHeader(destination: Service, path: Path, @interface: Service, member: "Notify", signature: "susssasa{sv}i");
                writer.WriteString(AppName);
                writer.WriteUInt32(replaces);
                writer.WriteString(icon);
                writer.WriteString(summary);
                writer.WriteString(body);
                writer.WriteArray(Array.Empty<string>());
                var hints = writer.WriteDictionaryStart();
                writer.WriteDictionaryEntryStart();
                writer.WriteString("desktop-entry");
                writer.WriteVariantString("ollama-proxy");
                writer.WriteDictionaryEnd(hints);
                // -1: the notification server's default timeout.
                writer.WriteInt32(-1);
                call = writer.CreateMessage();
            }
            finally
            {
                writer.Dispose();
            }

            var id = await _connection.CallMethodAsync(call, static (message, _) => message.GetBodyReader().ReadUInt32()).ConfigureAwait(false);
            lock (_lock)
            {
                _lastId = id;
            }
        }
        catch (Exception exception) when (exception is DBusErrorReplyException or DBusConnectionException or ObjectDisposedException)
        {
            // No notification server (a headless session) or the bus went away: notifications are a courtesy.
            Log.NotSent(_logger, summary, exception.Message);
        }
    }

    public void Dispose() => _connection.Dispose();
}
