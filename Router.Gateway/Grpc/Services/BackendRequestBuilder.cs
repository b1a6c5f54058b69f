using System.Buffers;
using System.Text.Json;
using Google.Protobuf.Collections;
using Router.Actors.Backends;
using Router.Gateway.Grpc.Contracts.Compute;
using ChatMessage = Router.Gateway.Grpc.Contracts.Compute.ChatMessage;
using GenerationOptions = Router.Gateway.Grpc.Contracts.Compute.GenerationOptions;

namespace Router.Gateway.Grpc.Services;

/// <summary>
/// Builds the backend bodies for a gRPC request: the Ollama-native body (InferenceRequest.Native)
/// and the OpenAI-format body (InferenceRequest.OpenAI) of the same request, so the router can
/// send it to either kind of backend. Proto3 scalars cannot say "unset", so 0 and empty mean
/// "the backend's default" and are left out of the body.
/// </summary>
internal static class BackendRequestBuilder
{
    public static BackendRequest NativeGenerate(string model, string prompt, GenerationOptions? options, bool stream) =>
        Build(BackendApi.OllamaGenerate, stream, writer =>
        {
            writer.WriteString("model", model);
            writer.WriteString("prompt", prompt);
            writer.WriteBoolean("stream", stream);
            WriteOllamaOptions(writer, options);
        });

    public static BackendRequest NativeChat(string model, RepeatedField<ChatMessage> messages, GenerationOptions? options, bool stream) =>
        Build(BackendApi.OllamaChat, stream, writer =>
        {
            writer.WriteString("model", model);
            WriteMessages(writer, messages);
            writer.WriteBoolean("stream", stream);
            WriteOllamaOptions(writer, options);
        });

    public static BackendRequest NativeEmbed(string model, string text) =>
        Build(BackendApi.OllamaEmbed, stream: false, writer =>
        {
            writer.WriteString("model", model);
            writer.WriteString("input", text);
        });

    public static BackendRequest OpenAICompletions(string model, string prompt, GenerationOptions? options, bool stream) =>
        Build(BackendApi.OpenAICompletions, stream, writer =>
        {
            writer.WriteString("model", model);
            writer.WriteString("prompt", prompt);
            WriteOpenAIOptions(writer, options, stream);
        });

    public static BackendRequest OpenAIChat(string model, RepeatedField<ChatMessage> messages, GenerationOptions? options, bool stream) =>
        Build(BackendApi.OpenAIChatCompletions, stream, writer =>
        {
            writer.WriteString("model", model);
            WriteMessages(writer, messages);
            WriteOpenAIOptions(writer, options, stream);
        });

    public static BackendRequest OpenAIEmbeddings(string model, string text) =>
        Build(BackendApi.OpenAIEmbeddings, stream: false, writer =>
        {
            writer.WriteString("model", model);
            writer.WriteString("input", text);
        });

    private static BackendRequest Build(BackendApi api, bool stream, Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            write(writer);
            writer.WriteEndObject();
        }

        return new BackendRequest(api, buffer.WrittenMemory, stream);
    }

    private static void WriteMessages(Utf8JsonWriter writer, RepeatedField<ChatMessage> messages)
    {
        writer.WriteStartArray("messages");
        foreach (var message in messages)
        {
            writer.WriteStartObject();
            writer.WriteString("role", message.Role);
            writer.WriteString("content", message.Content);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    /// <summary>Ollama's "options": num_predict, temperature, top_p, top_k, stop, num_ctx.</summary>
    private static void WriteOllamaOptions(Utf8JsonWriter writer, GenerationOptions? options)
    {
        if (options is null || options.Equals(EmptyOptions))
        {
            return;
        }

        writer.WriteStartObject("options");
        if (options.MaxTokens > 0)
        {
            writer.WriteNumber("num_predict", options.MaxTokens);
        }

        if (options.Temperature != 0)
        {
            writer.WriteNumber("temperature", options.Temperature);
        }

        if (options.TopP != 0)
        {
            writer.WriteNumber("top_p", options.TopP);
        }

        if (options.TopK > 0)
        {
            writer.WriteNumber("top_k", options.TopK);
        }

        WriteStop(writer, options);
        if (options.ContextLength > 0)
        {
            writer.WriteNumber("num_ctx", options.ContextLength);
        }

        writer.WriteEndObject();
    }

    /// <summary>OpenAI's top-level sampling fields; a stream asks for the usage chunk at its end.</summary>
    private static void WriteOpenAIOptions(Utf8JsonWriter writer, GenerationOptions? options, bool stream)
    {
        writer.WriteBoolean("stream", stream);
        if (stream)
        {
            writer.WriteStartObject("stream_options");
            writer.WriteBoolean("include_usage", true);
            writer.WriteEndObject();
        }

        if (options is null)
        {
            return;
        }

        if (options.MaxTokens > 0)
        {
            writer.WriteNumber("max_tokens", options.MaxTokens);
        }

        if (options.Temperature != 0)
        {
            writer.WriteNumber("temperature", options.Temperature);
        }

        if (options.TopP != 0)
        {
            writer.WriteNumber("top_p", options.TopP);
        }

        WriteStop(writer, options);
    }

    private static void WriteStop(Utf8JsonWriter writer, GenerationOptions options)
    {
        if (options.Stop.Count == 0)
        {
            return;
        }

        writer.WriteStartArray("stop");
        foreach (var stop in options.Stop)
        {
            writer.WriteStringValue(stop);
        }

        writer.WriteEndArray();
    }

    private static readonly GenerationOptions EmptyOptions = new();
}
