using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Router.Gateway.Grpc;

/// <summary>
/// Words the status of a request message over the size limit so that it names the limit and the
/// setting that raises it. Grpc.AspNetCore refuses such a message before any handler or interceptor
/// runs, with a fixed text, and sends the status in the response headers (Trailers-Only); they are
/// rewritten here just before they go out.
/// </summary>
internal static class GrpcMessageLimitStatus
{
    private const string StatusHeader = "grpc-status";
    private const string MessageHeader = "grpc-message";
    private const string ResourceExhausted = "8";

    public static IApplicationBuilder UseGrpcMessageLimitStatus(this IApplicationBuilder app, int limit)
    {
        ArgumentNullException.ThrowIfNull(app);
        var message = GrpcErrors.MessageTooLarge(limit);
        return app.Use((http, next) =>
        {
            http.Response.OnStarting(static state =>
            {
                var (response, message) = ((HttpResponse, string))state;
                var headers = response.Headers;
                // The library's text is ASCII: its grpc-message needs no percent-encoding, nor does ours.
                if (headers[StatusHeader] == ResourceExhausted && headers[MessageHeader] == GrpcErrors.LibraryMessageTooLarge)
                {
                    headers[MessageHeader] = message;
                }

                return Task.CompletedTask;
            }, (http.Response, message));
            return next(http);
        });
    }
}
