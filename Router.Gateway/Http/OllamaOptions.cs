using System.Collections.Frozen;
using System.Text.Json;

namespace Router.Gateway.Http;

/// <summary>
/// Ollama's request <c>options</c> and the JSON each must be. Ollama ignores an option it does not
/// know, but answers a known one of the wrong type (<c>"stop": "\n"</c>, <c>"temperature": "0.2"</c>)
/// with a 500: it fails while applying the options, after it accepted the request. The router would
/// take that 500 for a failing device, try the request on every other device and count it against
/// each one's health, so one client's typo could eject every backend. The router answers it instead,
/// with a 400 that names the option.
/// </summary>
internal static class OllamaOptions
{
    private enum Expected
    {
        Number,
        Boolean,
        TextArray,
    }

    // Ollama's Options and Runner fields (api/types.go). Integers accept any JSON number (Ollama
    // truncates), as do the floating-point ones.
    private static readonly FrozenDictionary<string, Expected> Known = new Dictionary<string, Expected>
    {
        ["num_keep"] = Expected.Number,
        ["seed"] = Expected.Number,
        ["num_predict"] = Expected.Number,
        ["top_k"] = Expected.Number,
        ["top_p"] = Expected.Number,
        ["min_p"] = Expected.Number,
        ["typical_p"] = Expected.Number,
        ["tfs_z"] = Expected.Number,
        ["repeat_last_n"] = Expected.Number,
        ["temperature"] = Expected.Number,
        ["repeat_penalty"] = Expected.Number,
        ["presence_penalty"] = Expected.Number,
        ["frequency_penalty"] = Expected.Number,
        ["mirostat"] = Expected.Number,
        ["mirostat_tau"] = Expected.Number,
        ["mirostat_eta"] = Expected.Number,
        ["num_ctx"] = Expected.Number,
        ["num_batch"] = Expected.Number,
        ["num_gpu"] = Expected.Number,
        ["main_gpu"] = Expected.Number,
        ["num_thread"] = Expected.Number,
        ["use_mmap"] = Expected.Boolean,
        ["use_mlock"] = Expected.Boolean,
        ["numa"] = Expected.Boolean,
        ["low_vram"] = Expected.Boolean,
        ["f16_kv"] = Expected.Boolean,
        ["vocab_only"] = Expected.Boolean,
        ["logits_all"] = Expected.Boolean,
        ["penalize_newline"] = Expected.Boolean,
        ["stop"] = Expected.TextArray,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static readonly FrozenDictionary<string, Expected>.AlternateLookup<ReadOnlySpan<char>> KnownBySpan =
        Known.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>Above the longest option name (17 characters), so a name is decoded on the stack.</summary>
    private const int MaxNameChars = 32;

    /// <summary>
    /// Checks the options object the reader stands on (its start) and leaves the reader on its end.
    /// Returns the error for the first option of the wrong type, or null. <paramref name="numPredict"/>
    /// is the answer length asked for, when it is a positive whole number.
    /// </summary>
    public static HttpError? Check(ref Utf8JsonReader reader, out int? numPredict)
    {
        numPredict = null;
        HttpError? error = null;
        Span<char> name = stackalloc char[MaxNameChars];
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!JsonText.IsValidString(ref reader))
            {
                error ??= HttpErrorMap.InvalidField("options", "one of its names " + HttpErrorMap.NotText[3..]);
                reader.Read();
                reader.Skip();
                continue;
            }

            var known = TryKnown(ref reader, name, out var expected, out var length);
            reader.Read();
            if (known && error is null && reader.TokenType != JsonTokenType.Null && !Fits(ref reader, expected))
            {
                error = HttpErrorMap.InvalidField("options." + name[..length].ToString(), What(expected));
            }

            if (known && expected == Expected.Number && reader.TokenType == JsonTokenType.Number
                && name[..length].SequenceEqual("num_predict") && reader.TryGetInt32(out var tokens) && tokens > 0)
            {
                numPredict = tokens;
            }

            reader.Skip();
        }

        return error;
    }

    /// <summary>Checks an options object held as JSON text (a WebSocket frame's).</summary>
    public static HttpError? Check(string optionsJson)
    {
        var reader = new Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(optionsJson));
        reader.Read();
        return Check(ref reader, out _);
    }

    private static bool TryKnown(ref Utf8JsonReader reader, scoped Span<char> buffer, out Expected expected, out int length)
    {
        expected = default;
        length = 0;
        // A name longer than any option is not one of them (its UTF-8 bytes bound its characters).
        if (reader.ValueSpan.Length > MaxNameChars)
        {
            return false;
        }

        length = reader.CopyString(buffer);
        return KnownBySpan.TryGetValue(buffer[..length], out expected);
    }

    // The reader stands on the value.
    private static bool Fits(ref Utf8JsonReader reader, Expected expected)
    {
        switch (expected)
        {
            case Expected.Number:
                return reader.TokenType == JsonTokenType.Number;
            case Expected.Boolean:
                return reader.TokenType is JsonTokenType.True or JsonTokenType.False;
            default:
                if (reader.TokenType != JsonTokenType.StartArray)
                {
                    return false;
                }

                var items = reader;
                while (items.Read() && items.TokenType != JsonTokenType.EndArray)
                {
                    if (items.TokenType != JsonTokenType.String)
                    {
                        return false;
                    }
                }

                return true;
        }
    }

    private static string What(Expected expected) => expected switch
    {
        Expected.Number => "use a number",
        Expected.Boolean => "use true or false",
        _ => "use an array of strings, e.g. [\"\\n\"]",
    };
}
