using Microsoft.Extensions.Logging;
using Router.Actors.Backends;
using Router.Actors.Inference;
using Router.Actors.Routing;

namespace Router.Gateway.Hosting;

/// <summary>
/// The core logs nothing itself: it publishes what happens on the event stream. The host turns the
/// events an operator cares about into log lines (event ids 1000–1099). Actor failures are Akka's
/// own log events, which reach the same loggers through Akka.Hosting.
/// </summary>
internal static partial class RouterHostLog
{
    public static void Attach(RouterRuntime runtime, ILogger logger)
    {
        runtime.Observe<BackendHealthChanged>("log-backend-health", e =>
        {
            if (e.To is BackendHealth.Healthy)
            {
                BackendHealthy(logger, e.BackendId, Name(e.From), e.Reason);
            }
            else
            {
                BackendUnavailable(logger, e.BackendId, Name(e.From), Name(e.To), e.Reason);
            }
        });
    }

    private static string Name(BackendHealth health) => health.ToString().ToLowerInvariant();

    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Backend {Backend} is healthy again (was {From}): {Reason}")]
    private static partial void BackendHealthy(ILogger logger, string backend, string from, string reason);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning, Message = "Backend {Backend} went from {From} to {To}: {Reason}")]
    private static partial void BackendUnavailable(ILogger logger, string backend, string from, string to, string reason);
}
