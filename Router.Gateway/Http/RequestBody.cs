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
    public static async ValueTask<byte[]?> ReadAsync(HttpContext context, long limit)
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
