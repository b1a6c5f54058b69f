using Microsoft.Extensions.Logging;

namespace Router.Actors.Inference;

internal sealed partial class InferenceRouter
{
    /// <summary>The request path's log lines (event ids 1300–1349).</summary>
    private static partial class Log
    {
        [LoggerMessage(EventId = 1300, Level = LogLevel.Error, Message = "The request observer (metrics, energy, D-Bus) failed on a request to {Backend} ({RequestId}); the request itself was not affected")]
        public static partial void ObserverFailed(ILogger logger, string backend, string? requestId, Exception exception);
    }
}
