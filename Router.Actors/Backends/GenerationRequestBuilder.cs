using System.Buffers;
using System.Collections.Immutable;
using System.Text.Encodings.Web;
using System.Text.Json;
using Router.Actors.Inference;
using Router.Actors.Routing;

namespace Router.Actors.Backends;

/// <summary>One message of a chat: <c>system</c>, <c>user</c>, <c>assistant</c> …</summary>
public sealed record ChatMessage(string Role, string Content);

/// <summary>
/// Sampling options common to both API families (null: the backend's default), and the client's own
/// Ollama options for surfaces that take them as written.
/// </summary>
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
    public double? PresencePenalty { get; init; }
    public double? FrequencyPenalty { get; init; }

    /// <summary>
    /// Ollama options as the client wrote them (a JSON object), for surfaces that take Ollama's
    /// options whole (the WebSocket). Each goes to Ollama unchanged, and each that has an OpenAI
    /// field of the same meaning goes to OpenAI-compatible backends under that name
    /// (<see cref="GenerationRequestBuilder.OpenAIName"/>). A typed option above wins over a raw one
    /// of the same name. The caller has checked the types (a bad one is the client's 400, not
    /// the backend's 500).
    /// </summary>
    public string? OllamaJson { get; init; }

    internal bool IsEmpty =>
        MaxTokens is null && Temperature is null && TopP is null && TopK is null && Stop.IsDefaultOrEmpty
        && ContextLength is null && Seed is null && PresencePenalty is null && FrequencyPenalty is null && OllamaJson is null;
}

/// <summary>
/// A generation as a surface not tied to one API family (WebSocket, gRPC) describes it: a prompt or a
/// list of messages. Messages make it a chat.
/// </summary>
public sealed record GenerationInput(string Model)
{
    public string? Prompt { get; init; }
    public ImmutableArray<ChatMessage> Messages { get; init; } = ImmutableArray<ChatMessage>.Empty;
    /// <summary>
    /// The conversation as the client wrote it (a JSON array of messages), sent as it is so that
    /// fields the router does not model (images, tool calls) reach the backend. Takes the place of
    /// <see cref="Messages"/> when set.
    /// </summary>
    public string? MessagesJson { get; init; }
    public GenerationOptions Options { get; init; } = GenerationOptions.Default;
    public bool Stream { get; init; } = true;

    public bool IsChat => MessagesJson is not null || !Messages.IsDefaultOrEmpty;
}

/// <summary>
/// The one builder of generation requests for the surfaces not tied to an API family (WebSocket,
/// gRPC): Ollama native (<c>/api/generate</c> with a prompt, <c>/api/chat</c> with messages) and
/// OpenAI (<c>/v1/completions</c>, <c>/v1/chat/completions</c>, asking for usage in the stream), from
/// typed options, the client's raw Ollama options, or both.
/// </summary>
public static class GenerationRequestBuilder
{
    /// <summary>Bodies carry text as written: the default encoder sends every non-ASCII letter as six bytes.</summary>
    private static readonly JsonWriterOptions Readable = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The request for the router: the Ollama body, its OpenAI equivalent and the expected answer length.</summary>
    public static InferenceRequest Build(GenerationInput input, RoutingHints hints)
    {
        ArgumentNullException.ThrowIfNull(hints);
        return new InferenceRequest(input.Model, hints, ForOllama(input))
        {
            OpenAI = ForOpenAI(input),
            ExpectedTokens = ExpectedTokens(input.Options),
        };
    }

    public static BackendRequest ForOllama(GenerationInput input)
    {
        Validate(input);
        byte[] body = Write(input, static (json, input) =>
        {
            json.WriteString("model", input.Model);
            WritePromptOrMessages(json, input);
            json.WriteBoolean("stream", input.Stream);
            if (input.Options.IsEmpty)
            {
                return;
            }

            json.WriteStartObject("options");
            WriteOptions(json, input.Options, openAI: false);
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

            WriteOptions(json, input.Options, openAI: true);
        });
        return new BackendRequest(input.IsChat ? BackendApi.OpenAIChatCompletions : BackendApi.OpenAICompletions, body, input.Stream);
    }

    /// <summary>
    /// The OpenAI field of the same meaning as an Ollama option, or null when OpenAI has none
    /// (<c>num_ctx</c>, <c>mirostat</c>, <c>num_gpu</c> …).
    /// </summary>
    public static string? OpenAIName(string ollamaOption) => ollamaOption switch
    {
        "num_predict" => "max_tokens",
        "temperature" => "temperature",
        "top_p" => "top_p",
        "top_k" => "top_k",
        "stop" => "stop",
        "seed" => "seed",
        "presence_penalty" => "presence_penalty",
        "frequency_penalty" => "frequency_penalty",
        _ => null,
    };

    /// <summary>The answer length the client asked for, for the router's estimates: a positive max_tokens / num_predict.</summary>
    public static int? ExpectedTokens(GenerationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.MaxTokens is { } typed)
        {
            return typed > 0 ? typed : null;
        }

        return RawOption(options.OllamaJson, "num_predict") is { ValueKind: JsonValueKind.Number } raw && raw.TryGetInt32(out int tokens) && tokens > 0
            ? tokens
            : null;
    }

    private static JsonElement? RawOption(string? json, string name)
    {
        if (json is null)
        {
            return null;
        }

        using JsonDocument document = JsonDocument.Parse(json);
        return document.RootElement.TryGetProperty(name, out JsonElement value) ? value.Clone() : null;
    }

    /// <summary>
    /// The typed options first, each under its Ollama name or its OpenAI one, then the raw ones the
    /// typed ones did not already give (for OpenAI, only those it has a field for).
    /// </summary>
    private static void WriteOptions(Utf8JsonWriter json, GenerationOptions o, bool openAI)
    {
        var written = new HashSet<string>(StringComparer.Ordinal);
        WriteIfSet(json, "num_predict", o.MaxTokens, openAI, written);
        WriteIfSet(json, "temperature", o.Temperature, openAI, written);
        WriteIfSet(json, "top_p", o.TopP, openAI, written);
        WriteIfSet(json, "top_k", o.TopK, openAI, written);
        if (!o.Stop.IsDefaultOrEmpty)
        {
            json.WriteStartArray("stop");
            foreach (string s in o.Stop)
            {
                json.WriteStringValue(s);
            }

            json.WriteEndArray();
            written.Add("stop");
        }

        WriteIfSet(json, "num_ctx", o.ContextLength, openAI, written);
        WriteIfSet(json, "seed", o.Seed, openAI, written);
        WriteIfSet(json, "presence_penalty", o.PresencePenalty, openAI, written);
        WriteIfSet(json, "frequency_penalty", o.FrequencyPenalty, openAI, written);

        if (o.OllamaJson is null)
        {
            return;
        }

        using JsonDocument raw = JsonDocument.Parse(o.OllamaJson);
        foreach (JsonProperty option in raw.RootElement.EnumerateObject())
        {
            if (written.Contains(option.Name))
            {
                continue;
            }

            if (!openAI)
            {
                option.WriteTo(json);
                continue;
            }

            if (OpenAIName(option.Name) is not { } name)
            {
                continue;
            }

            // Ollama's -1 (no limit) and -2 (fill the context) have no OpenAI spelling: left out.
            if (name == "max_tokens" && !(option.Value.TryGetInt32(out int tokens) && tokens > 0))
            {
                continue;
            }

            json.WritePropertyName(name);
            option.Value.WriteTo(json);
        }
    }

    private static void WriteIfSet(Utf8JsonWriter json, string ollamaName, int? value, bool openAI, HashSet<string> written)
    {
        if (value is { } v && Name(ollamaName, openAI) is { } name)
        {
            json.WriteNumber(name, v);
            written.Add(ollamaName);
        }
    }

    private static void WriteIfSet(Utf8JsonWriter json, string ollamaName, double? value, bool openAI, HashSet<string> written)
    {
        if (value is { } v && Name(ollamaName, openAI) is { } name)
        {
            json.WriteNumber(name, v);
            written.Add(ollamaName);
        }
    }

    private static string? Name(string ollamaName, bool openAI) => openAI ? OpenAIName(ollamaName) : ollamaName;

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

        json.WritePropertyName("messages");
        if (input.MessagesJson is { } raw)
        {
            json.WriteRawValue(raw, skipInputValidation: true);
            return;
        }

        json.WriteStartArray();
        foreach (ChatMessage message in input.Messages)
        {
            json.WriteStartObject();
            json.WriteString("role", message.Role);
            json.WriteString("content", message.Content);
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    internal static byte[] Write<TState>(TState state, Action<Utf8JsonWriter, TState> body)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer, Readable))
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
