using Microsoft.Extensions.Logging;

namespace Router.DBus;

/// <summary>Event ids 1530–1539: whether the desktop integration is on, and why not.</summary>
internal static partial class DesktopLog
{
    [LoggerMessage(EventId = 1530, Level = LogLevel.Information, Message = "D-Bus off: dbus.enabled = false")]
    public static partial void DBusDisabled(ILogger logger);

    [LoggerMessage(EventId = 1531, Level = LogLevel.Information, Message = "D-Bus off: no session bus (DBUS_SESSION_BUS_ADDRESS is not set)")]
    public static partial void NoSessionBus(ILogger logger);
}
