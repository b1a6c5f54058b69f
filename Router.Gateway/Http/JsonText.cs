using System.Buffers;
using System.Buffers.Text;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Router.Gateway.Http;

/// <summary>
/// Reads the strings of a request's JSON, refusing text that is not Unicode: bytes that are not
/// UTF-8, or an escaped surrogate without its pair (<c>"\ud800"</c>). System.Text.Json parses both
/// without complaint and throws <see cref="InvalidOperationException"/> only when such a string (or
/// property name) is decoded, which is not the <see cref="JsonException"/> a handler of bad bodies
/// expects. Every string the gateway decodes from a client's JSON goes through here, and a false
/// answer becomes a 400 naming the field (<see cref="HttpErrorMap.InvalidText"/>).
/// </summary>
internal static class JsonText
{
    /// <summary>
    /// Whether raw JSON text, as it stands in the document (escapes not decoded), decodes to Unicode
    /// text: valid UTF-8, and every <c>\u</c> escape of a surrogate paired. Works on one string's
    /// bytes as on a whole value: a backslash occurs only inside strings.
    /// </summary>
    public static bool IsValid(ReadOnlySpan<byte> raw) => Utf8.IsValid(raw) && SurrogateEscapesPaired(raw);

    /// <summary>Whether the string (or property name) the reader stands on is Unicode text.</summary>
    public static bool IsValidString(ref Utf8JsonReader reader) =>
        reader.HasValueSequence ? IsValid(reader.ValueSequence.ToArray()) : IsValid(reader.ValueSpan);

    /// <summary>The string the reader stands on; false (and null) when it is not Unicode text.</summary>
    public static bool TryGetString(ref Utf8JsonReader reader, out string? value)
    {
        var valid = IsValidString(ref reader);
        value = valid ? reader.GetString() : null;
        return valid;
    }

    /// <summary>A string element's text; false (and null) when it is not Unicode text.</summary>
    public static bool TryGetString(JsonElement element, out string? value)
    {
        var valid = IsValid(JsonMarshal.GetRawUtf8Value(element));
        value = valid ? element.GetString() : null;
        return valid;
    }

    /// <summary>Whether a whole value (an array, an object) holds only Unicode text, so its raw text can be read.</summary>
    public static bool IsValid(JsonElement element) => IsValid(JsonMarshal.GetRawUtf8Value(element));

    /// <summary>A property's name; false when it is not Unicode text (<see cref="Printable(JsonProperty)"/> shows it).</summary>
    public static bool TryGetName(JsonProperty property, out string name)
    {
        var valid = IsValid(JsonMarshal.GetRawUtf8PropertyName(property));
        name = valid ? property.Name : "";
        return valid;
    }

    /// <summary>
    /// A name that is not Unicode text, shown so the client can find it: escapes as written
    /// (<c>on_ac_power\ud800</c>) and each byte that is not UTF-8 as U+FFFD.
    /// </summary>
    public static string Printable(JsonProperty property) => Encoding.UTF8.GetString(JsonMarshal.GetRawUtf8PropertyName(property));

    /// <summary>The name (or string) the reader stands on, shown as <see cref="Printable(JsonProperty)"/> shows one.</summary>
    public static string Printable(ref Utf8JsonReader reader) =>
        Encoding.UTF8.GetString(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan);

    /// <summary>
    /// The first name of an object that is not Unicode text, as <see cref="Printable(JsonProperty)"/>
    /// shows it. Looking a property up by name (<see cref="JsonElement.TryGetProperty(string, out JsonElement)"/>)
    /// decodes the names it compares and throws on such a name, so an object a client sent is checked
    /// with this first.
    /// </summary>
    public static bool TryFindInvalidName(JsonElement element, out string printable)
    {
        foreach (var property in element.EnumerateObject())
        {
            if (!IsValid(JsonMarshal.GetRawUtf8PropertyName(property)))
            {
                printable = Printable(property);
                return true;
            }
        }

        printable = "";
        return false;
    }

    // The parser has checked that every escape is well formed: a backslash is followed by one of
    // its escape letters, and \u by four hex digits.
    private static bool SurrogateEscapesPaired(ReadOnlySpan<byte> raw)
    {
        var at = raw.IndexOf((byte)'\\');
        while (at >= 0)
        {
            var next = at + 2;
            if (at + 1 < raw.Length && raw[at + 1] == (byte)'u')
            {
                var unit = Unit(raw, at);
                next = at + 6;
                if (char.IsLowSurrogate(unit)) return false;
                if (char.IsHighSurrogate(unit))
                {
                    if (next + 6 > raw.Length || raw[next] != (byte)'\\' || raw[next + 1] != (byte)'u' || !char.IsLowSurrogate(Unit(raw, next))) return false;
                    next += 6;
                }
            }

            if (next >= raw.Length) break;
            var following = raw[next..].IndexOf((byte)'\\');
            at = following < 0 ? -1 : next + following;
        }

        return true;
    }

    /// <summary>The UTF-16 unit of the <c>\uXXXX</c> escape at <paramref name="at"/>; 0 when cut short.</summary>
    private static char Unit(ReadOnlySpan<byte> raw, int at) =>
        at + 6 <= raw.Length && Utf8Parser.TryParse(raw.Slice(at + 2, 4), out ushort unit, out var used, 'X') && used == 4 ? (char)unit : '\0';
}
