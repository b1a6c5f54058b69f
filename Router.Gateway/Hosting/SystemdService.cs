using System.Net.Sockets;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;

namespace Router.Gateway.Hosting;

/// <summary>
/// The daemon as a systemd service (Microsoft.Extensions.Hosting.Systemd): the journal's log format
/// when systemd runs it, <c>READY=1</c> on <c>$NOTIFY_SOCKET</c> (<c>Type=notify</c>) once the HTTP
/// and gRPC listeners are bound, and <c>STOPPING=1</c> when the daemon begins to stop. Outside
/// systemd, plain console logging and no notifications.
/// </summary>
/// <remarks>
/// The package's parts are used directly rather than through <c>UseSystemd()</c>: the READY
/// notification carries the bound addresses as its STATUS, which the command line knows once
/// the host has started.
/// </remarks>
internal static partial class SystemdService
{
    // Reads $NOTIFY_SOCKET once; without it, Notify does nothing.
    private static readonly SystemdNotifier Notifier = new();

    /// <summary>
    /// Console logging: under systemd the journal's format (a <c>&lt;N&gt;</c> syslog priority per
    /// line, so the journal keeps each message's level; no time stamp, the journal adds its own);
    /// otherwise one line per message with the time.
    /// </summary>
    public static void AddConsoleLogging(ILoggingBuilder logging)
    {
        if (SystemdHelpers.IsSystemdService())
        {
            logging.AddSystemdConsole();
        }
        else
        {
            logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss ";
            });
        }
    }

    /// <summary>Tells systemd the service is up: call once every listener is bound. <paramref name="status"/> shows in <c>systemctl status</c>.</summary>
    public static void NotifyReady(string status, ILogger logger) => Notify(new ServiceState($"READY=1\nSTATUS={status}"), logger);

    /// <summary>Tells systemd the service is stopping of its own accord or on request.</summary>
    public static void NotifyStopping(ILogger logger) => Notify(ServiceState.Stopping, logger);

    private static void Notify(ServiceState state, ILogger logger)
    {
        try
        {
            Notifier.Notify(state);
        }
        catch (SocketException e)
        {
            // A stale $NOTIFY_SOCKET (inherited outside systemd) must not stop the daemon; under
            // systemd the unit's start timeout reports the missing READY.
            NotifyFailed(logger, Environment.GetEnvironmentVariable("NOTIFY_SOCKET"), e.Message);
        }
    }

    [LoggerMessage(EventId = 1200, Level = LogLevel.Warning, Message = "Could not notify systemd on NOTIFY_SOCKET={Socket}: {Reason}")]
    private static partial void NotifyFailed(ILogger logger, string? socket, string reason);
}
