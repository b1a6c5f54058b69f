using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Router.Gateway.Grpc;

/// <summary>
/// Rewords the statuses Grpc.AspNetCore gives a call it refuses before any handler or interceptor
/// runs. It sends them in the response headers (Trailers-Only), which are rewritten here just before
/// they go out:
/// <list type="bullet">
/// <item>a request message over the size limit: RESOURCE_EXHAUSTED with the library's fixed text,
/// reworded to name the limit and the setting that raises it;</item>
/// <item>a request message that cannot be read (not protobuf of the method's request type, a string
/// in it not UTF-8, gzip that does not inflate): the library answers UNKNOWN "Exception was thrown by
/// handler.", which is what a crashed handler looks like. gRPC's status table gives it INTERNAL
/// (doc/statuscodes.md: "Error parsing request proto", "Could not decompress"). A handler that ran and
/// threw gets INTERNAL from <see cref="GrpcCallPolicy"/> already, so an UNKNOWN from a call whose
/// handler never started can only be a message the library could not read.</item>
/// </list>
/// Only gRPC requests are watched: the HTTP API shares the pipeline and pays nothing for this.
/// </summary>
internal static class GrpcRefusalStatus
{
    /// <summary>Set in the call's HttpContext items once the interceptors run (the message was read).</summary>
    public const string HandlerStartedItem = "ollama-proxy.grpc-handler-started";

    private const string StatusHeader = "grpc-status";
    private const string MessageHeader = "grpc-message";
    private const string Unknown = "2";
    private const string ResourceExhausted = "8";
    private const string Internal = "13";

    public static IApplicationBuilder UseGrpcRefusalStatus(this IApplicationBuilder app, int messageLimit)
    {
        ArgumentNullException.ThrowIfNull(app);
        var tooLarge = GrpcErrors.MessageTooLarge(messageLimit);
        Func<object, Task> reword = state =>
        {
            var http = (HttpContext)state;
            var headers = http.Response.Headers;
            // Both texts are ASCII: a grpc-message needs no percent-encoding then.
            var status = headers[StatusHeader];
            if (status == ResourceExhausted && headers[MessageHeader] == GrpcErrors.LibraryMessageTooLarge)
            {
                headers[MessageHeader] = tooLarge;
            }
            else if (status == Unknown && !http.Items.ContainsKey(HandlerStartedItem))
            {
                headers[StatusHeader] = Internal;
                headers[MessageHeader] = $"The request message of {http.Request.Path} could not be read: it is not protobuf of the method's request type "
                    + "(or a string in it is not UTF-8), or it is marked compressed and does not inflate with its grpc-encoding.";
            }

            return Task.CompletedTask;
        };

        return app.Use((http, next) =>
        {
            if (http.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true)
            {
                http.Response.OnStarting(reword, http);
            }

            return next(http);
        });
    }
}
