using Microsoft.Extensions.Logging;

namespace Router.Gateway.Http;

/// <summary>Log messages of the HTTP surfaces. Event ids 4000-4099 are this component's.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 4001, Level = LogLevel.Debug, Message = "Request {RequestId} on {Path}: the client disconnected; the backend call is cancelled")]
    public static partial void ClientDisconnected(ILogger logger, string? requestId, string path);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "Request {RequestId} on {Path}: the stream failed after it started: {Reason}")]
    public static partial void StreamFailed(ILogger logger, string? requestId, string path, string reason);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Error, Message = "Request {RequestId} on {Path}: the event channel ended without a final event")]
    public static partial void StreamEndedEarly(ILogger logger, string? requestId, string path);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Warning, Message = "Backend {BackendId} did not answer {Path}: {Reason}")]
    public static partial void PassthroughFailed(ILogger logger, string backendId, string path, string reason);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Error, Message = "Request {RequestId} on {Path}: the router threw")]
    public static partial void RequestCrashed(ILogger logger, string? requestId, string path, Exception exception);

    [LoggerMessage(EventId = 4010, Level = LogLevel.Information, Message = "WebSocket {ConnectionId} closed with {Status}: {Reason}")]
    public static partial void WebSocketClosed(ILogger logger, string connectionId, string status, string reason);

    [LoggerMessage(EventId = 4011, Level = LogLevel.Debug, Message = "WebSocket {ConnectionId}: request {RequestId} failed with {Code}: {Reason}")]
    public static partial void WebSocketRequestFailed(ILogger logger, string connectionId, string requestId, int code, string reason);

    [LoggerMessage(EventId = 4012, Level = LogLevel.Debug, Message = "WebSocket {ConnectionId}: the connection broke")]
    public static partial void WebSocketBroken(ILogger logger, string connectionId, Exception exception);

    [LoggerMessage(EventId = 4013, Level = LogLevel.Error, Message = "WebSocket {ConnectionId}: request {RequestId}: the router threw")]
    public static partial void WebSocketRequestCrashed(ILogger logger, string connectionId, string requestId, Exception exception);

    [LoggerMessage(EventId = 4020, Level = LogLevel.Information, Message = "Efficiency mode set to {Mode} over HTTP; in effect: {EffectiveMode}")]
    public static partial void ModeSet(ILogger logger, string mode, string effectiveMode);

    [LoggerMessage(EventId = 4030, Level = LogLevel.Information, Message = "Request {RequestId} on {Path}: the drain ran out mid-answer; ended with a shutdown error")]
    public static partial void StreamEndedByShutdown(ILogger logger, string? requestId, string path);

    [LoggerMessage(EventId = 4031, Level = LogLevel.Information, Message = "WebSocket {ConnectionId}: the router is stopping; closing with 1001 once its {InFlight} requests end")]
    public static partial void WebSocketDraining(ILogger logger, string connectionId, int inFlight);
}
