using System.Buffers;
using System.Text.Json;
using Router.Actors.Backends;
using Router.Actors.Inference;

namespace Router.Gateway.Http.WebSockets;

/// <summary>
/// Builds the backend bodies of a WebSocket request: Ollama-native (/api/generate or /api/chat,
/// with the client's options as they are) for <see cref="InferenceRequest.Native"/>, and the
/// OpenAI equivalent (/v1/completions or /v1/chat/completions) for OpenAI-compatible backends.
/// The backend call always streams; a client that asked for stream=false gets one token frame.
/// </summary>
internal static class StreamRequestBodies
{
    public static InferenceRequest Build(StreamRequestFrame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        var chat = frame.MessagesJson is not null;
        var native = new BackendRequest(chat ? BackendApi.OllamaChat : BackendApi.OllamaGenerate, Ollama(frame), Stream: true);
        var openAI = new BackendRequest(chat ? BackendApi.OpenAIChatCompletions : BackendApi.OpenAICompletions, OpenAI(frame, out var maxTokens), Stream: true);
        return new InferenceRequest(frame.Model, frame.Hints, native)
        {
            OpenAI = openAI,
            ExpectedTokens = maxTokens,
        };
    }

    private static byte[] Ollama(StreamRequestFrame frame)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, HttpError.ReadableJson))
        {
            writer.WriteStartObject();
            writer.WriteString("model", frame.Model);
            if (frame.MessagesJson is { } messages)
            {
                writer.WritePropertyName("messages");
                writer.WriteRawValue(messages, skipInputValidation: true);
            }
            else
            {
                writer.WriteString("prompt", frame.Prompt);
            }
            writer.WriteBoolean("stream", true);
            if (frame.OptionsJson is { } options)
            {
                writer.WritePropertyName("options");
                writer.WriteRawValue(options, skipInputValidation: true);
            }
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Ollama's options that have an OpenAI field of the same meaning; the rest have none.</summary>
    private static byte[] OpenAI(StreamRequestFrame frame, out int? maxTokens)
    {
        maxTokens = null;
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, HttpError.ReadableJson))
        {
            writer.WriteStartObject();
            writer.WriteString("model", frame.Model);
            if (frame.MessagesJson is { } messages)
            {
                writer.WritePropertyName("messages");
                writer.WriteRawValue(messages, skipInputValidation: true);
            }
            else
            {
                writer.WriteString("prompt", frame.Prompt);
            }
            writer.WriteBoolean("stream", true);
            writer.WriteStartObject("stream_options");
            writer.WriteBoolean("include_usage", true);
            writer.WriteEndObject();
            if (frame.OptionsJson is { } optionsJson)
            {
                using var options = JsonDocument.Parse(optionsJson);
                foreach (var option in options.RootElement.EnumerateObject())
                {
                    var name = option.Name switch
                    {
                        "num_predict" => "max_tokens",
                        "temperature" => "temperature",
                        "top_p" => "top_p",
                        "seed" => "seed",
                        "stop" => "stop",
                        "presence_penalty" => "presence_penalty",
                        "frequency_penalty" => "frequency_penalty",
                        _ => null,
                    };
                    if (name is null) continue;
                    if (name == "max_tokens")
                    {
                        // Ollama's -1 (no limit) and -2 (fill the context) have no OpenAI spelling: leave it out.
                        if (option.Value.ValueKind != JsonValueKind.Number || !option.Value.TryGetInt32(out var tokens) || tokens <= 0) continue;
                        maxTokens = tokens;
                    }
                    writer.WritePropertyName(name);
                    option.Value.WriteTo(writer);
                }
            }
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}
