using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Router.Gateway.Grpc;

internal sealed partial class GrpcDispatcher
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 5001, Level = LogLevel.Error, Message = "gRPC handler for {Method} threw; the client gets INTERNAL.")]
        public static partial void HandlerFailed(ILogger logger, string method, Exception exception);

        [LoggerMessage(EventId = 5002, Level = LogLevel.Debug, Message = "gRPC call {Method} cancelled by the client ({ExceptionType}).")]
        public static partial void CallCancelled(ILogger logger, string method, string exceptionType);

        [LoggerMessage(EventId = 5003, Level = LogLevel.Debug, Message = "gRPC call {Method} exceeded its deadline of {TimeoutMs} ms.")]
        public static partial void DeadlineExceeded(ILogger logger, string method, double timeoutMs);

        [LoggerMessage(EventId = 5004, Level = LogLevel.Information, Message = "Refused a gRPC request over {Protocol} for {Path}: gRPC needs HTTP/2.")]
        public static partial void WrongProtocol(ILogger logger, string protocol, PathString path);
    }
}
