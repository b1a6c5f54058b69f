using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Router.Gateway.Grpc;

/// <summary>
/// Gives a request message that cannot be read the status gRPC's status table gives it: INTERNAL
/// (doc/statuscodes.md: "Error parsing request proto", "Could not decompress"), with a message that
/// says what to fix. Grpc.AspNetCore reads the message before any interceptor runs; when it is not
/// protobuf of the method's request type, holds a string that is not UTF-8, or does not inflate, the
/// library answers UNKNOWN "Exception was thrown by handler.", which is what a crashed handler looks
/// like. A handler that ran and threw gets INTERNAL from <see cref="GrpcCallPolicy"/> already, so an
/// UNKNOWN from a call whose handler never started can only be a message the library could not
/// read; its Trailers-Only answer is rewritten just before it goes out.
/// </summary>
internal static class GrpcUnreadableMessageStatus
{
    /// <summary>Set in the call's HttpContext items once the interceptors run (the message was read).</summary>
    public const string HandlerStartedItem = "ollama-proxy.grpc-handler-started";

    private const string StatusHeader = "grpc-status";
    private const string MessageHeader = "grpc-message";
    private const string Unknown = "2";
    private const string Internal = "13";

    public static IApplicationBuilder UseGrpcUnreadableMessageStatus(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.Use((http, next) =>
        {
            http.Response.OnStarting(static state =>
            {
                var http = (HttpContext)state;
                var headers = http.Response.Headers;
                if (headers[StatusHeader] == Unknown && !http.Items.ContainsKey(HandlerStartedItem))
                {
                    headers[StatusHeader] = Internal;
                    // ASCII only: a grpc-message needs no percent-encoding then.
                    headers[MessageHeader] = $"The request message of {http.Request.Path} could not be read: it is not protobuf of the method's request type "
                        + "(or a string in it is not UTF-8), or it is marked compressed and does not inflate with its grpc-encoding.";
                }

                return Task.CompletedTask;
            }, http);
            return next(http);
        });
    }
}
