using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Router.Gateway.Http;

/// <summary>Writes a JSON answer built with a <see cref="Utf8JsonWriter"/> (informational and admin paths).</summary>
internal static class JsonAnswer
{
    public static Task WriteAsync<TState>(HttpContext context, int status, TState state, Action<Utf8JsonWriter, TState> write)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, HttpError.ReadableJson))
        {
            write(writer, state);
        }
        return WriteRawAsync(context, status, buffer.WrittenMemory);
    }

    public static Task WriteRawAsync(HttpContext context, int status, ReadOnlyMemory<byte> json)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = json.Length;
        return response.Body.WriteAsync(json, context.RequestAborted).AsTask();
    }

    public static void WriteStringArray(Utf8JsonWriter writer, string name, IEnumerable<string> values)
    {
        writer.WriteStartArray(name);
        foreach (var value in values) writer.WriteStringValue(value);
        writer.WriteEndArray();
    }

    public static void WriteNumberOrNull(Utf8JsonWriter writer, string name, double? value)
    {
        if (value is { } number && double.IsFinite(number)) writer.WriteNumber(name, number);
        else writer.WriteNull(name);
    }
}
