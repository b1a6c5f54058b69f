using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Router.Gateway.Http;

/// <summary>The protocol family of a path: errors are written in the caller's own format.</summary>
internal enum ApiFlavor
{
    /// <summary><c>{"error": {"message", "type", "param", "code"}}</c>, used on /v1 and the admin paths.</summary>
    OpenAI,
    /// <summary><c>{"error": "..."}</c>, used on /api.</summary>
    Ollama,
}

/// <summary>
/// One error answer, independent of the protocol: the status, OpenAI's <c>type</c> and <c>code</c>,
/// the field or header at fault, and when to retry.
/// </summary>
internal sealed record HttpError(int Status, string Type, string Code, string Message, string? Param = null, TimeSpan? RetryAfter = null)
{
    public static ApiFlavor FlavorOf(PathString path) =>
        path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase) ? ApiFlavor.Ollama : ApiFlavor.OpenAI;

    // Messages quote names ('model'); the default encoder would send them as \u0027, which is valid
    // JSON but unreadable for whoever looks at the answer with curl (and it sends every non-ASCII
    // letter of a token as six bytes). Served as JSON only, never inside HTML, so the relaxed encoder
    // is safe; it still escapes quotes and control characters.
    internal static readonly JsonWriterOptions ReadableJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The JSON body in <paramref name="flavor"/>, without framing.</summary>
    public byte[] ToJson(ApiFlavor flavor)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, ReadableJson))
        {
            writer.WriteStartObject();
            if (flavor == ApiFlavor.Ollama)
            {
                writer.WriteString("error", Message);
            }
            else
            {
                writer.WriteStartObject("error");
                writer.WriteString("message", Message);
                writer.WriteString("type", Type);
                if (Param is null) writer.WriteNull("param"); else writer.WriteString("param", Param);
                writer.WriteString("code", Code);
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writes the whole answer: status, Retry-After where it helps, and the body.</summary>
    public Task WriteAsync(HttpContext context, ApiFlavor flavor)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.RequestServices?.GetService<ErrorAnswers>()?.Record(context, this);
        var response = context.Response;
        response.StatusCode = Status;
        if (RetryAfter is { } retry)
        {
            response.Headers.RetryAfter = RetrySeconds(retry).ToString(CultureInfo.InvariantCulture);
        }
        response.ContentType = "application/json; charset=utf-8";
        var body = ToJson(flavor);
        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body, 0, body.Length, context.RequestAborted);
    }

    /// <summary>Retry-After is whole seconds (RFC 9110 §10.2.3); never 0, which would invite a hot loop.</summary>
    public static long RetrySeconds(TimeSpan retry) => Math.Max(1, (long)Math.Ceiling(retry.TotalSeconds));
}
