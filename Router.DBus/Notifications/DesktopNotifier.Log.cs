using Microsoft.Extensions.Logging;

namespace Router.DBus.Notifications;

internal sealed partial class DesktopNotifier
{
    /// <summary>Event ids 1550–1559: desktop notifications.</summary>
    private static partial class Log
    {
        // Debug: the D-Bus export says once, at Information, that this same bus cannot be reached.
        [LoggerMessage(EventId = 1550, Level = LogLevel.Debug, Message = "Desktop notifications off: the session bus at {Address} cannot be reached ({Reason})")]
        public static partial void Unreachable(ILogger logger, string address, string reason);

        [LoggerMessage(EventId = 1551, Level = LogLevel.Debug, Message = "Desktop notification not sent (one went out less than the interval ago): {Summary}")]
        public static partial void Dropped(ILogger logger, string summary);

        [LoggerMessage(EventId = 1552, Level = LogLevel.Debug, Message = "Desktop notification not delivered: {Summary} ({Reason})")]
        public static partial void NotSent(ILogger logger, string summary, string reason);
    }
}
