using System.Collections.Concurrent;
using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;

namespace Router.Gateway.Simulation;

public sealed partial class SimulatedBackend
{
    private const string Fingerprint = "fp_ollama";

    // Models used recently, for /api/ps (Ollama keeps a model loaded for 5 minutes by default).
    private readonly ConcurrentDictionary<string, DateTimeOffset> _loaded = new(StringComparer.Ordinal);

    private void MarkLoaded(string model) => _loaded[model] = _options.TimeProvider.GetUtcNow();

    /// <summary>Writes one frame: an NDJSON line, or an SSE <c>data:</c> event.</summary>
    private static void WriteFrame(PipeWriter output, Utf8JsonWriter json, bool sse, Action<Utf8JsonWriter> body)
    {
        if (sse)
        {
            output.Write("data: "u8);
        }

        json.WriteStartObject();
        body(json);
        json.WriteEndObject();
        json.Flush();
        json.Reset();
        output.Write(sse ? "\n\n"u8 : "\n"u8);
    }

    private void WriteTokenChunk(Utf8JsonWriter json, Generation generation, string id, string text)
    {
        switch (generation.Api)
        {
            case GenerationApi.OllamaGenerate:
                json.WriteString("model", generation.Model);
                json.WriteString("created_at", _options.TimeProvider.GetUtcNow());
                json.WriteString("response", text);
                json.WriteBoolean("done", false);
                break;
            case GenerationApi.OllamaChat:
                json.WriteString("model", generation.Model);
                json.WriteString("created_at", _options.TimeProvider.GetUtcNow());
                WriteAssistantMessage(json, "message", text);
                json.WriteBoolean("done", false);
                break;
            case GenerationApi.OpenAIChat:
                WriteOpenAIHeader(json, generation, id, "chat.completion.chunk");
                json.WriteStartArray("choices");
                json.WriteStartObject();
                json.WriteNumber("index", 0);
                WriteAssistantMessage(json, "delta", text);
                json.WriteNull("finish_reason");
                json.WriteEndObject();
                json.WriteEndArray();
                break;
            default:
                WriteOpenAIHeader(json, generation, id, "text_completion");
                json.WriteStartArray("choices");
                json.WriteStartObject();
                json.WriteString("text", text);
                json.WriteNumber("index", 0);
                json.WriteNull("finish_reason");
                json.WriteEndObject();
                json.WriteEndArray();
                break;
        }
    }

    private void WriteOpenAIFinishChunk(Utf8JsonWriter json, Generation generation, string id)
    {
        bool chat = generation.Api == GenerationApi.OpenAIChat;
        WriteOpenAIHeader(json, generation, id, chat ? "chat.completion.chunk" : "text_completion");
        json.WriteStartArray("choices");
        json.WriteStartObject();
        json.WriteNumber("index", 0);
        if (chat)
        {
            json.WriteStartObject("delta");
            json.WriteEndObject();
        }
        else
        {
            json.WriteString("text", "");
        }

        json.WriteString("finish_reason", FinishReason(generation));
        json.WriteEndObject();
        json.WriteEndArray();
    }

    // stream_options.include_usage: one more chunk before [DONE], with empty choices and the usage.
    private void WriteOpenAIUsageChunk(Utf8JsonWriter json, Generation generation, string id, GenerationTiming timing)
    {
        WriteOpenAIHeader(json, generation, id, generation.Api == GenerationApi.OpenAIChat ? "chat.completion.chunk" : "text_completion");
        json.WriteStartArray("choices");
        json.WriteEndArray();
        WriteOpenAIUsage(json, timing);
    }

    /// <summary>Ollama's final object: the (remaining) text, done, the reason and the stats in nanoseconds.</summary>
    private void WriteOllamaFinalFields(Utf8JsonWriter json, Generation generation, GenerationTiming timing, string text)
    {
        WriteWholeOpening(json, generation, "");
        json.WriteStringValue(text);
        WriteWholeClosing(json, generation, timing);
    }

    /// <summary>
    /// The fields of a whole answer before its text, ending on the text's property name: Ollama's
    /// model and time, OpenAI's header and the first choice.
    /// </summary>
    private void WriteWholeOpening(Utf8JsonWriter json, Generation generation, string id)
    {
        switch (generation.Api)
        {
            case GenerationApi.OllamaGenerate:
                json.WriteString("model", generation.Model);
                json.WriteString("created_at", _options.TimeProvider.GetUtcNow());
                json.WritePropertyName("response");
                break;
            case GenerationApi.OllamaChat:
                json.WriteString("model", generation.Model);
                json.WriteString("created_at", _options.TimeProvider.GetUtcNow());
                json.WriteStartObject("message");
                json.WriteString("role", "assistant");
                json.WritePropertyName("content");
                break;
            default:
                bool chat = generation.Api == GenerationApi.OpenAIChat;
                WriteOpenAIHeader(json, generation, id, chat ? "chat.completion" : "text_completion");
                json.WriteStartArray("choices");
                json.WriteStartObject();
                json.WriteNumber("index", 0);
                if (chat)
                {
                    json.WriteStartObject("message");
                    json.WriteString("role", "assistant");
                    json.WritePropertyName("content");
                }
                else
                {
                    json.WritePropertyName("text");
                }

                break;
        }
    }

    /// <summary>The fields of a whole answer after its text: why it ended, and the counts and times.</summary>
    private static void WriteWholeClosing(Utf8JsonWriter json, Generation generation, GenerationTiming timing)
    {
        switch (generation.Api)
        {
            case GenerationApi.OllamaGenerate or GenerationApi.OllamaChat:
                if (generation.Api == GenerationApi.OllamaChat)
                {
                    json.WriteEndObject();
                }

                json.WriteBoolean("done", true);
                json.WriteString("done_reason", FinishReason(generation));
                json.WriteNumber("total_duration", timing.TotalNs);
                json.WriteNumber("load_duration", timing.LoadNs);
                json.WriteNumber("prompt_eval_count", timing.PromptTokens);
                json.WriteNumber("prompt_eval_duration", timing.PromptEvalNs);
                json.WriteNumber("eval_count", timing.CompletionTokens);
                json.WriteNumber("eval_duration", timing.EvalNs);
                break;
            default:
                if (generation.Api == GenerationApi.OpenAIChat)
                {
                    json.WriteEndObject();
                }

                json.WriteString("finish_reason", FinishReason(generation));
                json.WriteEndObject();
                json.WriteEndArray();
                WriteOpenAIUsage(json, timing);
                break;
        }
    }

    private void WriteOpenAIHeader(Utf8JsonWriter json, Generation generation, string id, string objectType)
    {
        json.WriteString("id", id);
        json.WriteString("object", objectType);
        json.WriteNumber("created", _options.TimeProvider.GetUtcNow().ToUnixTimeSeconds());
        json.WriteString("model", generation.Model);
        json.WriteString("system_fingerprint", Fingerprint);
    }

    private static void WriteOpenAIUsage(Utf8JsonWriter json, GenerationTiming timing)
    {
        json.WriteStartObject("usage");
        json.WriteNumber("prompt_tokens", timing.PromptTokens);
        json.WriteNumber("completion_tokens", timing.CompletionTokens);
        json.WriteNumber("total_tokens", timing.PromptTokens + timing.CompletionTokens);
        json.WriteEndObject();
    }

    private static void WriteAssistantMessage(Utf8JsonWriter json, string name, string content)
    {
        json.WriteStartObject(name);
        json.WriteString("role", "assistant");
        json.WriteString("content", content);
        json.WriteEndObject();
    }

    private static string FinishReason(Generation generation) => generation.LengthLimited ? "length" : "stop";

    private static void WriteVector(Utf8JsonWriter json, string? name, float[] vector)
    {
        if (name is null)
        {
            json.WriteStartArray();
        }
        else
        {
            json.WriteStartArray(name);
        }

        foreach (float value in vector)
        {
            json.WriteNumberValue(value);
        }

        json.WriteEndArray();
    }

    private void WriteTags(Utf8JsonWriter json)
    {
        json.WriteStartArray("models");
        foreach (string model in Profile.Models)
        {
            json.WriteStartObject();
            ModelCatalog.WriteSummary(json, model);
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private void WriteLifecycleAnswer(Utf8JsonWriter json, GenerationApi api, string model, string doneReason)
    {
        json.WriteString("model", model);
        json.WriteString("created_at", _options.TimeProvider.GetUtcNow());
        if (api == GenerationApi.OllamaChat)
        {
            json.WriteStartObject("message");
            json.WriteString("role", "assistant");
            json.WriteString("content", "");
            json.WriteEndObject();
        }
        else
        {
            json.WriteString("response", "");
        }

        json.WriteBoolean("done", true);
        json.WriteString("done_reason", doneReason);
    }

    private void WriteLoadedModels(Utf8JsonWriter json)
    {
        DateTimeOffset now = _options.TimeProvider.GetUtcNow();
        json.WriteStartArray("models");
        foreach (KeyValuePair<string, DateTimeOffset> loaded in _loaded)
        {
            DateTimeOffset expires = loaded.Value + TimeSpan.FromMinutes(5);
            if (expires <= now)
            {
                continue;
            }

            json.WriteStartObject();
            ModelCatalog.WriteSummary(json, loaded.Key);
            json.WriteString("expires_at", expires);
            // Devices with their own memory report the model in VRAM; NPU and CPU share system RAM.
            json.WriteNumber("size_vram", Profile.Hardware is "nvidia" or "igpu" ? ModelCatalog.SizeBytes(loaded.Key) : 0);
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private void WriteOpenAIModels(Utf8JsonWriter json)
    {
        json.WriteString("object", "list");
        json.WriteStartArray("data");
        foreach (string model in Profile.Models)
        {
            json.WriteStartObject();
            json.WriteString("id", model);
            json.WriteString("object", "model");
            json.WriteNumber("created", ModelCatalog.Modified.ToUnixTimeSeconds());
            json.WriteString("owned_by", "library");
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private static async Task<bool> WriteJsonAsync(HttpContext context, int status, Action<Utf8JsonWriter> body, CancellationToken token)
    {
        HttpResponse response = context.Response;
        response.StatusCode = status;
        response.ContentType = JsonContentType;
        var json = new Utf8JsonWriter(response.BodyWriter);
        await using (json.ConfigureAwait(false))
        {
            json.WriteStartObject();
            body(json);
            json.WriteEndObject();
            json.Flush();
        }

        FlushResult result = await response.BodyWriter.FlushAsync(token).ConfigureAwait(false);
        return !result.IsCanceled && !result.IsCompleted;
    }

    /// <summary>Errors in the caller's dialect: Ollama <c>{"error": "…"}</c>, OpenAI <c>{"error": {"message": …}}</c>.</summary>
    private static Task<bool> WriteErrorAsync(HttpContext context, string path, int status, string message, CancellationToken token)
    {
        bool openAI = path.StartsWith("/v1/", StringComparison.Ordinal);
        return WriteJsonAsync(context, status, json =>
        {
            if (!openAI)
            {
                json.WriteString("error", message);
                return;
            }

            json.WriteStartObject("error");
            json.WriteString("message", message);
            json.WriteString("type", status >= 500 ? "api_error" : "invalid_request_error");
            json.WriteNull("param");
            json.WriteNull("code");
            json.WriteEndObject();
        }, token);
    }
}
