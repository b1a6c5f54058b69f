using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Router.Gateway.Http;

/// <summary>Reads a request body whole, under the configured limit, so a body over it is a clean 413.</summary>
internal static class RequestBody
{
    /// <summary>
    /// Reads the body, or returns null when it is over <paramref name="limit"/> bytes. Kestrel's own
    /// limit is lifted for this request: ours is enforced here, so the 413 is in the caller's format.
    /// </summary>
    public static async ValueTask<byte[]?> ReadAsync(HttpContext context, long limit) =>
        (await ReadOrFailAsync(context, limit).ConfigureAwait(false)).Body;

    /// <summary>
    /// Reads the body, or answers the failure in <paramref name="flavor"/> and returns null: 413 over
    /// the limit, 400 when the HTTP framing of the body is broken (a bad chunk size, a body shorter
    /// than its Content-Length). The latter is the client's doing, not a fault of the router.
    /// </summary>
    public static async ValueTask<byte[]?> ReadOrAnswerAsync(HttpContext context, long limit, ApiFlavor flavor)
    {
        var (body, error) = await ReadOrFailAsync(context, limit).ConfigureAwait(false);
        if (error is null) return body;
        if (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
        {
            // Kestrel closes the connection after a broken body; the answer still goes out first.
            await error.WriteAsync(context, flavor).ConfigureAwait(false);
        }

        return null;
    }

    private static async ValueTask<(byte[]? Body, HttpError? Error)> ReadOrFailAsync(HttpContext context, long limit)
    {
        try
        {
            var body = await ReadWholeAsync(context, limit).ConfigureAwait(false);
            return body is null ? (null, HttpErrorMap.BodyTooLarge(limit)) : (body, null);
        }
        catch (BadHttpRequestException exception)
        {
            return (null, HttpErrorMap.MalformedBody(exception.Message));
        }
    }

    private static async ValueTask<byte[]?> ReadWholeAsync(HttpContext context, long limit)
    {
        var sizeFeature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false })
        {
            sizeFeature.MaxRequestBodySize = null;
        }

        var declared = context.Request.ContentLength;
        if (declared > limit) return null;

        var reader = context.Request.BodyReader;
        var cancellationToken = context.RequestAborted;
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (buffer.Length > limit)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                return null;
            }
            if (result.IsCompleted)
            {
                var body = buffer.ToArray();
                reader.AdvanceTo(buffer.End);
                return body;
            }
            // Consume nothing, examine everything: the next read returns the whole body so far plus more.
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }
}
