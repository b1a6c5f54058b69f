using Microsoft.Extensions.Logging;

namespace Router.DBus.Power;

internal sealed partial class DesktopPowerSource
{
    /// <summary>Event ids 1540–1549: the desktop's power state.</summary>
    private static partial class Log
    {
        [LoggerMessage(EventId = 1540, Level = LogLevel.Information, Message = "Power state: UPower {UPower}, power profile {Profile}")]
        public static partial void Started(ILogger logger, string upower, string profile);

        [LoggerMessage(EventId = 1541, Level = LogLevel.Information, Message = "Power state from sysfs: the system bus at {Address} cannot be reached ({Reason})")]
        public static partial void SystemBusUnreachable(ILogger logger, string address, string reason);

        [LoggerMessage(EventId = 1542, Level = LogLevel.Information, Message = "Power state from sysfs: no system bus address")]
        public static partial void NoSystemBus(ILogger logger);
    }
}
