using Microsoft.Extensions.Logging;

namespace Router.DBus.Export;

internal abstract partial class ExportedObject
{
    /// <summary>Event ids 1500–1509: calls on the exported objects.</summary>
    private static partial class Log
    {
        [LoggerMessage(EventId = 1500, Level = LogLevel.Error, Message = "D-Bus call {Interface}.{Member} failed")]
        public static partial void CallFailed(ILogger logger, string @interface, string member, Exception exception);
    }
}
