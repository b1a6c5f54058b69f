using System.Text.Json;

namespace Router.Gateway.Http;

/// <summary>
/// Ollama's <c>keep_alive</c>: how long a model stays in memory after a request, as seconds (a
/// number) or a duration (<c>"10m"</c>, <c>"0s"</c>). Zero unloads the model; a negative value keeps
/// it loaded for good. Only "is it zero" matters to the router.
/// </summary>
internal static class OllamaKeepAlive
{
    /// <summary>Whether the value the reader stands on is a zero keep-alive.</summary>
    public static bool IsZero(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.Number => reader.TryGetDouble(out var seconds) && seconds == 0,
        JsonTokenType.String => JsonText.TryGetString(ref reader, out var text) && IsZeroText(text),
        _ => false,
    };

    public static bool IsZero(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number => value.TryGetDouble(out var seconds) && seconds == 0,
        JsonValueKind.String => JsonText.TryGetString(value, out var text) && IsZeroText(text),
        _ => false,
    };

    /// <summary>
    /// "0", "0s", "0m", "0.0h", "0m0s", "-0": a number of seconds or a Go duration whose every
    /// figure is zero. Anything else (including text that is not a duration) is not zero.
    /// </summary>
    internal static bool IsZeroText(string? text)
    {
        if (text is null) return false;
        var span = text.AsSpan().Trim();
        if (span.Length > 0 && span[0] is '+' or '-') span = span[1..];
        var digits = 0;
        foreach (var c in span)
        {
            if (c == '0') digits++;
            else if (c is not ('.' or 'n' or 's' or 'u' or 'µ' or 'm' or 'h')) return false;
        }

        return digits > 0 && (char.IsAsciiDigit(span[0]) || span[0] == '.');
    }
}
