using Microsoft.Extensions.Logging;

namespace Router.DBus.Export;

internal sealed partial class RouterBus
{
    /// <summary>Event ids 1510–1529: the session-bus connection and the bus name.</summary>
    private static partial class Log
    {
        [LoggerMessage(EventId = 1510, Level = LogLevel.Information, Message = "D-Bus: on the session bus as {BusName} ({Address})")]
        public static partial void Exported(ILogger logger, string busName, string address);

        [LoggerMessage(EventId = 1511, Level = LogLevel.Information, Message = "D-Bus off: the session bus at {Address} cannot be reached ({Reason})")]
        public static partial void BusUnreachable(ILogger logger, string address, string reason);

        [LoggerMessage(EventId = 1512, Level = LogLevel.Warning, Message = "D-Bus off: another process owns {BusName}; running without D-Bus (dbus.require-name = false)")]
        public static partial void NameTakenRunningWithout(ILogger logger, string busName);

        [LoggerMessage(EventId = 1513, Level = LogLevel.Warning, Message = "D-Bus: lost the session bus at {Address} ({Reason}); reconnecting")]
        public static partial void Disconnected(ILogger logger, string address, string reason);

        [LoggerMessage(EventId = 1514, Level = LogLevel.Debug, Message = "D-Bus: the session bus at {Address} is still unreachable ({Reason}); next try in {Seconds} s")]
        public static partial void ReconnectFailed(ILogger logger, string address, string reason, double seconds);

        [LoggerMessage(EventId = 1515, Level = LogLevel.Warning, Message = "D-Bus: reconnected, but another process now owns {BusName}; retrying")]
        public static partial void NameTakenOnReconnect(ILogger logger, string busName);

        [LoggerMessage(EventId = 1516, Level = LogLevel.Information, Message = "D-Bus: back on the session bus as {BusName} ({Address})")]
        public static partial void Reconnected(ILogger logger, string busName, string address);
    }
}
