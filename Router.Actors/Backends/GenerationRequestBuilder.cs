using System.Buffers;
using System.Collections.Immutable;
using System.Text.Json;

namespace Router.Actors.Backends;

/// <summary>One message of a chat: <c>system</c>, <c>user</c>, <c>assistant</c> …</summary>
public sealed record ChatMessage(string Role, string Content);

/// <summary>Sampling options common to both API families (null: the backend's default).</summary>
public sealed record GenerationOptions
{
    public static readonly GenerationOptions Default = new();

    /// <summary>Ollama <c>num_predict</c>, OpenAI <c>max_tokens</c>.</summary>
    public int? MaxTokens { get; init; }
    public double? Temperature { get; init; }
    public double? TopP { get; init; }
    /// <summary>Ollama <c>top_k</c>; sent to OpenAI-compatible servers as the common <c>top_k</c> extension (llama.cpp, vLLM).</summary>
    public int? TopK { get; init; }
    public ImmutableArray<string> Stop { get; init; } = ImmutableArray<string>.Empty;
    /// <summary>Ollama <c>num_ctx</c>. OpenAI has no such setting; it is not sent there.</summary>
    public int? ContextLength { get; init; }
    public int? Seed { get; init; }
}

/// <summary>
/// A generation as a surface not tied to one API family (WebSocket, gRPC) describes it: a prompt or a
/// list of messages. Messages make it a chat.
/// </summary>
public sealed record GenerationInput(string Model)
{
    public string? Prompt { get; init; }
    public ImmutableArray<ChatMessage> Messages { get; init; } = ImmutableArray<ChatMessage>.Empty;
    public GenerationOptions Options { get; init; } = GenerationOptions.Default;
    public bool Stream { get; init; } = true;

    public bool IsChat => !Messages.IsDefaultOrEmpty;
}

/// <summary>
/// Builds the backend request for a <see cref="GenerationInput"/>: Ollama native (<c>/api/generate</c>
/// with a prompt, <c>/api/chat</c> with messages) or OpenAI (<c>/v1/completions</c>,
/// <c>/v1/chat/completions</c>, asking for usage in the stream).
/// </summary>
public static class GenerationRequestBuilder
{
    public static BackendRequest ForOllama(GenerationInput input)
    {
        Validate(input);
        byte[] body = Write(input, static (json, input) =>
        {
            json.WriteString("model", input.Model);
            WritePromptOrMessages(json, input);
            json.WriteBoolean("stream", input.Stream);

            GenerationOptions o = input.Options;
            if (o.MaxTokens is null && o.Temperature is null && o.TopP is null && o.TopK is null
                && o.Stop.IsDefaultOrEmpty && o.ContextLength is null && o.Seed is null)
            {
                return;
            }

            json.WriteStartObject("options");
            WriteIfSet(json, "num_predict", o.MaxTokens);
            WriteIfSet(json, "temperature", o.Temperature);
            WriteIfSet(json, "top_p", o.TopP);
            WriteIfSet(json, "top_k", o.TopK);
            WriteStop(json, o.Stop);
            WriteIfSet(json, "num_ctx", o.ContextLength);
            WriteIfSet(json, "seed", o.Seed);
            json.WriteEndObject();
        });
        return new BackendRequest(input.IsChat ? BackendApi.OllamaChat : BackendApi.OllamaGenerate, body, input.Stream);
    }

    public static BackendRequest ForOpenAI(GenerationInput input)
    {
        Validate(input);
        byte[] body = Write(input, static (json, input) =>
        {
            json.WriteString("model", input.Model);
            WritePromptOrMessages(json, input);
            json.WriteBoolean("stream", input.Stream);
            if (input.Stream)
            {
                // Without this the stream carries no token counts.
                json.WriteStartObject("stream_options");
                json.WriteBoolean("include_usage", true);
                json.WriteEndObject();
            }

            GenerationOptions o = input.Options;
            WriteIfSet(json, "max_tokens", o.MaxTokens);
            WriteIfSet(json, "temperature", o.Temperature);
            WriteIfSet(json, "top_p", o.TopP);
            WriteIfSet(json, "top_k", o.TopK);
            WriteStop(json, o.Stop);
            WriteIfSet(json, "seed", o.Seed);
        });
        return new BackendRequest(input.IsChat ? BackendApi.OpenAIChatCompletions : BackendApi.OpenAICompletions, body, input.Stream);
    }

    private static void Validate(GenerationInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentException.ThrowIfNullOrEmpty(input.Model);
        if (!input.IsChat && input.Prompt is null)
        {
            throw new ArgumentException("A generation needs a prompt or messages.", nameof(input));
        }
    }

    private static void WritePromptOrMessages(Utf8JsonWriter json, GenerationInput input)
    {
        if (!input.IsChat)
        {
            json.WriteString("prompt", input.Prompt);
            return;
        }

        json.WriteStartArray("messages");
        foreach (ChatMessage message in input.Messages)
        {
            json.WriteStartObject();
            json.WriteString("role", message.Role);
            json.WriteString("content", message.Content);
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private static void WriteStop(Utf8JsonWriter json, ImmutableArray<string> stop)
    {
        if (stop.IsDefaultOrEmpty)
        {
            return;
        }

        json.WriteStartArray("stop");
        foreach (string s in stop)
        {
            json.WriteStringValue(s);
        }

        json.WriteEndArray();
    }

    private static void WriteIfSet(Utf8JsonWriter json, string name, int? value)
    {
        if (value is { } v)
        {
            json.WriteNumber(name, v);
        }
    }

    private static void WriteIfSet(Utf8JsonWriter json, string name, double? value)
    {
        if (value is { } v)
        {
            json.WriteNumber(name, v);
        }
    }

    internal static byte[] Write<TState>(TState state, Action<Utf8JsonWriter, TState> body)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            body(json, state);
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}

/// <summary>Builds embedding requests: Ollama <c>/api/embed</c> or OpenAI <c>/v1/embeddings</c>, both batched.</summary>
public static class EmbeddingRequestBuilder
{
    public static BackendRequest ForOllama(string model, IReadOnlyList<string> inputs)
    {
        Validate(model, inputs);
        return new BackendRequest(BackendApi.OllamaEmbed, WriteBody(model, inputs, null), Stream: false);
    }

    /// <param name="dimensions">OpenAI <c>dimensions</c>, for models that can shorten their vectors.</param>
    public static BackendRequest ForOpenAI(string model, IReadOnlyList<string> inputs, int? dimensions = null)
    {
        Validate(model, inputs);
        return new BackendRequest(BackendApi.OpenAIEmbeddings, WriteBody(model, inputs, dimensions), Stream: false);
    }

    private static byte[] WriteBody(string model, IReadOnlyList<string> inputs, int? dimensions) =>
        GenerationRequestBuilder.Write((model, inputs, dimensions), static (json, s) =>
        {
            json.WriteString("model", s.model);
            json.WriteStartArray("input");
            foreach (string input in s.inputs)
            {
                json.WriteStringValue(input);
            }

            json.WriteEndArray();
            if (s.dimensions is { } d)
            {
                json.WriteNumber("dimensions", d);
            }
        });

    private static void Validate(string model, IReadOnlyList<string> inputs)
    {
        ArgumentException.ThrowIfNullOrEmpty(model);
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count == 0)
        {
            throw new ArgumentException("At least one input is needed.", nameof(inputs));
        }
    }
}

/// <summary>Reads non-streaming answers: embedding vectors and generated text, for either API family.</summary>
public static class BackendResponseReader
{
    /// <summary>
    /// The vectors of an embedding answer, in input order: Ollama <c>/api/embed</c> (<c>embeddings</c>),
    /// <c>/api/embeddings</c> (<c>embedding</c>, one vector), OpenAI (<c>data[].embedding</c>, ordered by <c>index</c>).
    /// </summary>
    public static Result<ImmutableArray<float[]>, BackendError> ReadEmbeddings(BackendApi api, ReadOnlyMemory<byte> body)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(body);
            JsonElement root = document.RootElement;
            switch (api)
            {
                case BackendApi.OllamaEmbed when root.TryGetProperty("embeddings", out JsonElement list) && list.ValueKind == JsonValueKind.Array:
                {
                    ImmutableArray<float[]>.Builder vectors = ImmutableArray.CreateBuilder<float[]>(list.GetArrayLength());
                    foreach (JsonElement vector in list.EnumerateArray())
                    {
                        vectors.Add(ReadVector(vector));
                    }

                    return Result<ImmutableArray<float[]>, BackendError>.Ok(vectors.MoveToImmutable());
                }

                case BackendApi.OllamaEmbeddings when root.TryGetProperty("embedding", out JsonElement vector):
                    return Result<ImmutableArray<float[]>, BackendError>.Ok(ImmutableArray.Create<float[]>(ReadVector(vector)));
                case BackendApi.OpenAIEmbeddings when root.TryGetProperty("data", out JsonElement data) && data.ValueKind == JsonValueKind.Array:
                {
                    var vectors = new float[data.GetArrayLength()][];
                    int position = 0;
                    foreach (JsonElement item in data.EnumerateArray())
                    {
                        int index = item.TryGetProperty("index", out JsonElement i) && i.TryGetInt32(out int n) ? n : position;
                        if ((uint)index >= (uint)vectors.Length || vectors[index] is not null)
                        {
                            return Invalid("data[].index out of range or repeated");
                        }

                        vectors[index] = ReadVector(item.GetProperty("embedding"));
                        position++;
                    }

                    return Result<ImmutableArray<float[]>, BackendError>.Ok(vectors.ToImmutableArray());
                }

                default:
                    return Invalid($"no vectors for {api}");
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            return Invalid(e.Message);
        }
    }

    /// <summary>The generated text of a non-streaming generation answer (Ollama <c>response</c> or <c>message.content</c>; OpenAI <c>choices[0]</c>).</summary>
    public static bool TryReadText(BackendApi api, ReadOnlySpan<byte> body, out string text)
    {
        if (ChunkParser.TryParse(api, body, out ChunkInfo info) && info.Error is null)
        {
            text = info.Text;
            return true;
        }

        text = "";
        return false;
    }

    private static float[] ReadVector(JsonElement vector)
    {
        var values = new float[vector.GetArrayLength()];
        int i = 0;
        foreach (JsonElement value in vector.EnumerateArray())
        {
            values[i++] = value.GetSingle();
        }

        return values;
    }

    private static BackendError Invalid(string detail) =>
        new(BackendErrorKind.Protocol, $"The embedding answer could not be read: {detail}.");
}
