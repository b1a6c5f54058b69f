using System.Buffers;
using System.Text;
using System.Text.Json.Nodes;

namespace Router.Actors.Backends;

/// <summary>
/// Folds a streamed Ollama answer (NDJSON) into the one object Ollama sends for <c>"stream": false</c>:
/// the final object with the whole text. Ollama streams unless the body says otherwise, so a
/// non-streaming call whose body omits <c>"stream": false</c> still gets a single answer.
/// </summary>
internal static class NdjsonAggregator
{
    public const string ContentType = "application/x-ndjson";

    /// <returns>The folded object, or null when the lines hold no final object (the body is kept as is).</returns>
    public static byte[]? Aggregate(BackendApi api, byte[] body)
    {
        var buffer = new ReadOnlySequence<byte>(body);
        var text = new StringBuilder();
        byte[]? final = null;
        while (NdjsonFraming.TryReadLine(ref buffer, out ReadOnlySequence<byte> line, out _))
        {
            byte[] raw = line.ToArray();
            if (!ChunkParser.TryParse(api, raw, out ChunkInfo info) || info.Error is not null)
            {
                return null;
            }

            text.Append(info.Text);
            if (info.Done)
            {
                final = raw;
                break;
            }
        }

        if (final is null || JsonNode.Parse(final) is not JsonObject done)
        {
            return null;
        }

        if (api == BackendApi.OllamaChat)
        {
            JsonObject message = done["message"] as JsonObject ?? [];
            message["role"] ??= "assistant";
            message["content"] = text.ToString();
            done["message"] = message;
        }
        else
        {
            done["response"] = text.ToString();
        }

        return Encoding.UTF8.GetBytes(done.ToJsonString());
    }
}
