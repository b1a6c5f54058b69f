using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Router.Actors.Backends;

namespace Router.Tests.Http.Fakes;

/// <summary>Answers shaped exactly like Ollama's and OpenAI's, for the fake router to stream or send.</summary>
internal static class FakeAnswers
{
    public const int PromptTokens = 12;
    public const long Created = 1_760_000_000;
    public const string CreatedAt = "2026-11-22T03:00:00.000000Z";
    public static readonly float[] Vector = [0.25f, -0.5f, 0.125f, 1f];

    private static byte[] Json(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer)) write(writer);
        return buffer.WrittenSpan.ToArray();
    }

    public static bool IncludeUsage(ReadOnlyMemory<byte> body)
    {
        var node = JsonNode.Parse(body.Span);
        return node?["stream_options"]?["include_usage"]?.GetValue<bool>() == true;
    }

    /// <summary>The chunks of a streaming answer (each the JSON of one SSE event or NDJSON line) with their text.</summary>
    public static IEnumerable<StreamChunk> Chunks(BackendApi api, string model, IReadOnlyList<string> tokens, bool includeUsage)
    {
        for (var i = 0; i < tokens.Count; i++)
        {
            yield return new StreamChunk(Chunk(api, model, tokens[i], first: i == 0), tokens[i]);
        }
        yield return new StreamChunk(Final(api, model, tokens.Count), "");
        if (includeUsage && api is BackendApi.OpenAIChatCompletions or BackendApi.OpenAICompletions)
        {
            yield return new StreamChunk(UsageChunk(api, model, tokens.Count), "");
        }
    }

    public static byte[] Chunk(BackendApi api, string model, string token, bool first) => api switch
    {
        BackendApi.OpenAIChatCompletions => Json(w =>
        {
            OpenAIHead(w, "chatcmpl-fake", "chat.completion.chunk", model);
            w.WriteStartArray("choices");
            w.WriteStartObject();
            w.WriteNumber("index", 0);
            w.WriteStartObject("delta");
            if (first) w.WriteString("role", "assistant");
            w.WriteString("content", token);
            w.WriteEndObject();
            w.WriteNull("finish_reason");
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        }),
        BackendApi.OpenAICompletions => Json(w =>
        {
            OpenAIHead(w, "cmpl-fake", "text_completion", model);
            w.WriteStartArray("choices");
            w.WriteStartObject();
            w.WriteString("text", token);
            w.WriteNumber("index", 0);
            w.WriteNull("logprobs");
            w.WriteNull("finish_reason");
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        }),
        BackendApi.OllamaChat => Json(w =>
        {
            OllamaHead(w, model);
            w.WriteStartObject("message");
            w.WriteString("role", "assistant");
            w.WriteString("content", token);
            w.WriteEndObject();
            w.WriteBoolean("done", false);
            w.WriteEndObject();
        }),
        BackendApi.OllamaGenerate => Json(w =>
        {
            OllamaHead(w, model);
            w.WriteString("response", token);
            w.WriteBoolean("done", false);
            w.WriteEndObject();
        }),
        _ => throw new NotSupportedException(api + " does not stream"),
    };

    private static byte[] Final(BackendApi api, string model, int tokens) => api switch
    {
        BackendApi.OpenAIChatCompletions => Json(w =>
        {
            OpenAIHead(w, "chatcmpl-fake", "chat.completion.chunk", model);
            w.WriteStartArray("choices");
            w.WriteStartObject();
            w.WriteNumber("index", 0);
            w.WriteStartObject("delta");
            w.WriteEndObject();
            w.WriteString("finish_reason", "stop");
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        }),
        BackendApi.OpenAICompletions => Json(w =>
        {
            OpenAIHead(w, "cmpl-fake", "text_completion", model);
            w.WriteStartArray("choices");
            w.WriteStartObject();
            w.WriteString("text", "");
            w.WriteNumber("index", 0);
            w.WriteNull("logprobs");
            w.WriteString("finish_reason", "stop");
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        }),
        BackendApi.OllamaChat => Json(w =>
        {
            OllamaHead(w, model);
            w.WriteStartObject("message");
            w.WriteString("role", "assistant");
            w.WriteString("content", "");
            w.WriteEndObject();
            OllamaDone(w, tokens);
            w.WriteEndObject();
        }),
        BackendApi.OllamaGenerate => Json(w =>
        {
            OllamaHead(w, model);
            w.WriteString("response", "");
            OllamaDone(w, tokens);
            w.WriteStartArray("context");
            w.WriteNumberValue(1);
            w.WriteNumberValue(2);
            w.WriteEndArray();
            w.WriteEndObject();
        }),
        _ => throw new NotSupportedException(api + " does not stream"),
    };

    private static byte[] UsageChunk(BackendApi api, string model, int tokens) => Json(w =>
    {
        OpenAIHead(w, api == BackendApi.OpenAIChatCompletions ? "chatcmpl-fake" : "cmpl-fake",
            api == BackendApi.OpenAIChatCompletions ? "chat.completion.chunk" : "text_completion", model);
        w.WriteStartArray("choices");
        w.WriteEndArray();
        Usage(w, tokens);
        w.WriteEndObject();
    });

    /// <summary>A whole non-streaming answer, usage included.</summary>
    public static byte[] Complete(BackendApi api, string model, IReadOnlyList<string> tokens, ReadOnlyMemory<byte> requestBody)
    {
        var text = string.Concat(tokens);
        return api switch
        {
            BackendApi.OpenAIChatCompletions => Json(w =>
            {
                OpenAIHead(w, "chatcmpl-fake", "chat.completion", model);
                w.WriteStartArray("choices");
                w.WriteStartObject();
                w.WriteNumber("index", 0);
                w.WriteStartObject("message");
                w.WriteString("role", "assistant");
                w.WriteString("content", text);
                w.WriteEndObject();
                w.WriteString("finish_reason", "stop");
                w.WriteEndObject();
                w.WriteEndArray();
                Usage(w, tokens.Count);
                w.WriteEndObject();
            }),
            BackendApi.OpenAICompletions => Json(w =>
            {
                OpenAIHead(w, "cmpl-fake", "text_completion", model);
                w.WriteStartArray("choices");
                w.WriteStartObject();
                w.WriteString("text", text);
                w.WriteNumber("index", 0);
                w.WriteNull("logprobs");
                w.WriteString("finish_reason", "stop");
                w.WriteEndObject();
                w.WriteEndArray();
                Usage(w, tokens.Count);
                w.WriteEndObject();
            }),
            BackendApi.OpenAIEmbeddings => OpenAIEmbeddings(model, requestBody),
            BackendApi.OllamaChat => Json(w =>
            {
                OllamaHead(w, model);
                w.WriteStartObject("message");
                w.WriteString("role", "assistant");
                w.WriteString("content", text);
                w.WriteEndObject();
                OllamaDone(w, tokens.Count);
                w.WriteEndObject();
            }),
            BackendApi.OllamaGenerate => Json(w =>
            {
                OllamaHead(w, model);
                w.WriteString("response", text);
                OllamaDone(w, tokens.Count);
                w.WriteEndObject();
            }),
            BackendApi.OllamaEmbed => Json(w =>
            {
                w.WriteStartObject();
                w.WriteString("model", model);
                w.WriteStartArray("embeddings");
                for (var i = 0; i < InputCount(requestBody); i++) WriteVector(w);
                w.WriteEndArray();
                w.WriteNumber("total_duration", 14_143_917);
                w.WriteNumber("load_duration", 1_019_500);
                w.WriteNumber("prompt_eval_count", 8);
                w.WriteEndObject();
            }),
            BackendApi.OllamaEmbeddings => Json(w =>
            {
                w.WriteStartObject();
                w.WriteStartArray("embedding");
                foreach (var value in Vector) w.WriteNumberValue(value);
                w.WriteEndArray();
                w.WriteEndObject();
            }),
            _ => throw new NotSupportedException(api.ToString()),
        };
    }

    /// <summary>OpenAI clients ask for base64 by default (the official SDKs do): the float32s, little-endian.</summary>
    private static byte[] OpenAIEmbeddings(string model, ReadOnlyMemory<byte> requestBody)
    {
        var base64 = JsonNode.Parse(requestBody.Span)?["encoding_format"]?.GetValue<string>() == "base64";
        var count = InputCount(requestBody);
        return Json(w =>
        {
            w.WriteStartObject();
            w.WriteString("object", "list");
            w.WriteStartArray("data");
            for (var i = 0; i < count; i++)
            {
                w.WriteStartObject();
                w.WriteString("object", "embedding");
                w.WriteNumber("index", i);
                if (base64)
                {
                    var bytes = new byte[Vector.Length * sizeof(float)];
                    for (var j = 0; j < Vector.Length; j++) System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(j * 4), Vector[j]);
                    w.WriteString("embedding", Convert.ToBase64String(bytes));
                }
                else
                {
                    w.WriteStartArray("embedding");
                    foreach (var value in Vector) w.WriteNumberValue(value);
                    w.WriteEndArray();
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteString("model", model);
            w.WriteStartObject("usage");
            w.WriteNumber("prompt_tokens", 8);
            w.WriteNumber("total_tokens", 8);
            w.WriteEndObject();
            w.WriteEndObject();
        });
    }

    private static int InputCount(ReadOnlyMemory<byte> requestBody) =>
        JsonNode.Parse(requestBody.Span)?["input"] is JsonArray array ? array.Count : 1;

    private static void WriteVector(Utf8JsonWriter w)
    {
        w.WriteStartArray();
        foreach (var value in Vector) w.WriteNumberValue(value);
        w.WriteEndArray();
    }

    private static void OpenAIHead(Utf8JsonWriter w, string id, string type, string model)
    {
        w.WriteStartObject();
        w.WriteString("id", id);
        w.WriteString("object", type);
        w.WriteNumber("created", Created);
        w.WriteString("model", model);
        w.WriteString("system_fingerprint", "fp_ollama");
    }

    private static void OllamaHead(Utf8JsonWriter w, string model)
    {
        w.WriteStartObject();
        w.WriteString("model", model);
        w.WriteString("created_at", CreatedAt);
    }

    private static void OllamaDone(Utf8JsonWriter w, int tokens)
    {
        w.WriteString("done_reason", "stop");
        w.WriteBoolean("done", true);
        w.WriteNumber("total_duration", 512_000_000);
        w.WriteNumber("load_duration", 2_000_000);
        w.WriteNumber("prompt_eval_count", PromptTokens);
        w.WriteNumber("prompt_eval_duration", 40_000_000);
        w.WriteNumber("eval_count", tokens);
        w.WriteNumber("eval_duration", 420_000_000);
    }

    private static void Usage(Utf8JsonWriter w, int tokens)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", PromptTokens);
        w.WriteNumber("completion_tokens", tokens);
        w.WriteNumber("total_tokens", PromptTokens + tokens);
        w.WriteEndObject();
    }

    public static string Invariant(double value) => value.ToString(CultureInfo.InvariantCulture);
}
