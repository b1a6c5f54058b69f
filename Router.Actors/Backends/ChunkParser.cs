using System.Text.Json;

namespace Router.Actors.Backends;

/// <summary>What one JSON chunk or answer says, as far as the router cares.</summary>
/// <param name="Text">Generated text in the chunk (empty when none).</param>
/// <param name="Done">Ollama: <c>done: true</c> (the final object).</param>
/// <param name="Finished">OpenAI: a choice carries a <c>finish_reason</c>.</param>
/// <param name="Error">The backend's <c>error</c> (message), when the chunk is an error.</param>
internal readonly record struct ChunkInfo(
    string Text,
    bool Done,
    bool Finished,
    int? PromptTokens,
    int? CompletionTokens,
    long? EvalDurationNs,
    string? Error);

/// <summary>
/// Extracts text, completion and usage from the backends' JSON without building a document: one
/// forward pass with <see cref="Utf8JsonReader"/>, skipping everything else.
/// </summary>
internal static class ChunkParser
{
    /// <summary>Parses one chunk or answer of <paramref name="api"/>. False when it is not a JSON object.</summary>
    public static bool TryParse(BackendApi api, ReadOnlySpan<byte> json, out ChunkInfo info)
    {
        try
        {
            info = api switch
            {
                BackendApi.OpenAIChatCompletions or BackendApi.OpenAICompletions or BackendApi.OpenAIEmbeddings => ParseOpenAI(json),
                _ => ParseOllama(json),
            };
            return true;
        }
        catch (JsonException)
        {
            info = default;
            return false;
        }
    }

    // Ollama: {"response": "..."} (generate) or {"message": {"content": "..."}} (chat), and on the
    // final object {"done": true, "prompt_eval_count", "eval_count", "eval_duration" (ns)}.
    private static ChunkInfo ParseOllama(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, isFinalBlock: true, state: default);
        ExpectObjectStart(ref reader);

        string text = "";
        bool done = false;
        int? promptTokens = null, completionTokens = null;
        long? evalNs = null;
        string? error = null;

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("response"u8))
            {
                text = ReadString(ref reader) ?? text;
            }
            else if (reader.ValueTextEquals("message"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        if (reader.ValueTextEquals("content"u8))
                        {
                            text = ReadString(ref reader) ?? text;
                        }
                        else
                        {
                            SkipValue(ref reader);
                        }
                    }
                }
                else
                {
                    reader.Skip();
                }
            }
            else if (reader.ValueTextEquals("done"u8))
            {
                reader.Read();
                done = reader.TokenType == JsonTokenType.True;
            }
            else if (reader.ValueTextEquals("prompt_eval_count"u8))
            {
                promptTokens = ReadInt32(ref reader);
            }
            else if (reader.ValueTextEquals("eval_count"u8))
            {
                completionTokens = ReadInt32(ref reader);
            }
            else if (reader.ValueTextEquals("eval_duration"u8))
            {
                evalNs = ReadInt64(ref reader);
            }
            else if (reader.ValueTextEquals("error"u8))
            {
                error = ReadError(ref reader);
            }
            else
            {
                SkipValue(ref reader);
            }
        }

        return new ChunkInfo(text, done, false, promptTokens, completionTokens, evalNs, error);
    }

    // OpenAI: {"choices": [{"delta": {"content": "..."}} | {"text": "..."} | {"message": {"content"}},
    // "finish_reason"}], "usage": {"prompt_tokens", "completion_tokens"}}. Only choice 0 counts.
    private static ChunkInfo ParseOpenAI(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, isFinalBlock: true, state: default);
        ExpectObjectStart(ref reader);

        string text = "";
        bool finished = false;
        int? promptTokens = null, completionTokens = null;
        string? error = null;

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("choices"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartArray)
                {
                    reader.Skip();
                    continue;
                }

                bool first = true;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (first && reader.TokenType == JsonTokenType.StartObject)
                    {
                        ReadChoice(ref reader, ref text, ref finished);
                    }
                    else
                    {
                        reader.Skip();
                    }

                    first = false;
                }
            }
            else if (reader.ValueTextEquals("usage"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                    continue;
                }

                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("prompt_tokens"u8))
                    {
                        promptTokens = ReadInt32(ref reader);
                    }
                    else if (reader.ValueTextEquals("completion_tokens"u8))
                    {
                        completionTokens = ReadInt32(ref reader);
                    }
                    else
                    {
                        SkipValue(ref reader);
                    }
                }
            }
            else if (reader.ValueTextEquals("error"u8))
            {
                error = ReadError(ref reader);
            }
            else
            {
                SkipValue(ref reader);
            }
        }

        return new ChunkInfo(text, false, finished, promptTokens, completionTokens, null, error);
    }

    // Positioned on the StartObject of a choice; leaves the reader on its EndObject.
    private static void ReadChoice(ref Utf8JsonReader reader, ref string text, ref bool finished)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("delta"u8) || reader.ValueTextEquals("message"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                    continue;
                }

                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("content"u8))
                    {
                        text = ReadString(ref reader) ?? text;
                    }
                    else
                    {
                        SkipValue(ref reader);
                    }
                }
            }
            else if (reader.ValueTextEquals("text"u8))
            {
                text = ReadString(ref reader) ?? text;
            }
            else if (reader.ValueTextEquals("finish_reason"u8))
            {
                reader.Read();
                finished |= reader.TokenType == JsonTokenType.String;
            }
            else
            {
                SkipValue(ref reader);
            }
        }
    }

    private static void ExpectObjectStart(ref Utf8JsonReader reader)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("Expected a JSON object.");
        }
    }

    private static void SkipValue(ref Utf8JsonReader reader)
    {
        reader.Read();
        reader.Skip();
    }

    private static string? ReadString(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.String)
        {
            return reader.GetString();
        }

        reader.Skip();
        return null;
    }

    private static int? ReadInt32(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out int value) ? value : null;
    }

    private static long? ReadInt64(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out long value) ? value : null;
    }

    // Ollama sends {"error": "message"}; OpenAI {"error": {"message": "..."}}.
    private static string ReadError(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.String)
        {
            return reader.GetString() ?? "error";
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return "error";
        }

        string message = "error";
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("message"u8))
            {
                message = ReadString(ref reader) ?? message;
            }
            else
            {
                SkipValue(ref reader);
            }
        }

        return message;
    }
}
