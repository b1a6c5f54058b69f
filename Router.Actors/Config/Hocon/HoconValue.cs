using System.Globalization;
using System.Text;

namespace Router.Actors.Config.Hocon;

/// <summary>
/// A node of the HOCON value tree. Every node keeps its origin so errors can point at the line that
/// set it. The tree is built mutable by the parser and the resolver, then only read.
/// </summary>
internal abstract class HoconValue(ConfigOrigin origin)
{
    public ConfigOrigin Origin { get; } = origin;

    /// <summary>How the value reads in an error message: <c>"abc"</c>, <c>42</c>, <c>an object</c>.</summary>
    public abstract string Describe();
}

internal enum HoconScalarKind
{
    String,
    Number,
    Boolean,
    Null,
}

/// <summary>A string, number, boolean or null. Numbers keep their text so nothing is lost to rounding.</summary>
internal sealed class HoconScalar(ConfigOrigin origin, HoconScalarKind kind, string text) : HoconValue(origin)
{
    public HoconScalarKind Kind { get; } = kind;

    /// <summary>The string's characters, the number as written, <c>true</c>/<c>false</c> or <c>null</c>.</summary>
    public string Text { get; } = text;

    public static HoconScalar String(ConfigOrigin origin, string text) => new(origin, HoconScalarKind.String, text);

    /// <summary>Types an unquoted token the way the spec says: true/false/null/number, else a string.</summary>
    public static HoconScalar FromUnquoted(ConfigOrigin origin, string text) => text switch
    {
        "true" or "false" => new(origin, HoconScalarKind.Boolean, text),
        "null" => new(origin, HoconScalarKind.Null, text),
        _ when IsNumber(text) => new(origin, HoconScalarKind.Number, text),
        _ => new(origin, HoconScalarKind.String, text),
    };

    /// <summary>JSON's number grammar: <c>-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?</c>.</summary>
    public static bool IsNumber(string text)
    {
        var i = 0;
        if (i < text.Length && text[i] == '-')
        {
            i++;
        }

        var digits = CountDigits(text, i);
        if (digits == 0 || (digits > 1 && text[i] == '0'))
        {
            return false;
        }

        i += digits;
        if (i < text.Length && text[i] == '.')
        {
            digits = CountDigits(text, i + 1);
            if (digits == 0)
            {
                return false;
            }

            i += 1 + digits;
        }

        if (i < text.Length && (text[i] == 'e' || text[i] == 'E'))
        {
            i++;
            if (i < text.Length && (text[i] == '+' || text[i] == '-'))
            {
                i++;
            }

            digits = CountDigits(text, i);
            if (digits == 0)
            {
                return false;
            }

            i += digits;
        }

        return i == text.Length;

        static int CountDigits(string s, int start)
        {
            var n = start;
            while (n < s.Length && char.IsAsciiDigit(s[n]))
            {
                n++;
            }

            return n - start;
        }
    }

    public bool TryGetDouble(out double value) =>
        double.TryParse(Text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);

    public override string Describe() => Kind == HoconScalarKind.String ? Quote(Text) : Text;

    internal static string Quote(string text)
    {
        var quoted = new StringBuilder(text.Length + 2).Append('"');
        foreach (var c in text)
        {
            _ = c switch
            {
                '"' => quoted.Append("\\\""),
                '\\' => quoted.Append("\\\\"),
                '\n' => quoted.Append("\\n"),
                '\t' => quoted.Append("\\t"),
                '\r' => quoted.Append("\\r"),
                < ' ' => quoted.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"),
                _ => quoted.Append(c),
            };
        }

        return quoted.Append('"').ToString();
    }
}

/// <summary>An object: fields in the order they were first defined.</summary>
internal sealed class HoconObject(ConfigOrigin origin) : HoconValue(origin)
{
    public OrderedDictionary<string, HoconValue> Fields { get; } = new(StringComparer.Ordinal);

    public bool TryGet(string key, out HoconValue value) => Fields.TryGetValue(key, out value!);

    public override string Describe() => "an object";
}

internal sealed class HoconArray(ConfigOrigin origin) : HoconValue(origin)
{
    public List<HoconValue> Items { get; } = [];

    public override string Describe() => "an array";
}

/// <summary>
/// A value that needs the whole tree to be known: a substitution, a concatenation holding one, or a
/// delayed object merge. <see cref="Below"/> is the value this one replaced for the same field; a
/// self-reference and an undefined <c>${?x}</c> see it.
/// </summary>
internal abstract class HoconUnresolved(ConfigOrigin origin) : HoconValue(origin)
{
    public HoconValue? Below { get; set; }

    public override string Describe() => "an unresolved value";
}

/// <summary><c>${path}</c> or <c>${?path}</c>.</summary>
internal sealed class HoconSubstitution(ConfigOrigin origin, IReadOnlyList<string> path, bool optional) : HoconUnresolved(origin)
{
    public IReadOnlyList<string> Path { get; } = path;

    public bool Optional { get; } = optional;

    /// <summary>The path as seen from the root when the file was included inside an object; tried first.</summary>
    public IReadOnlyList<string>? IncludedPath { get; init; }

    public override string ToString() => (Optional ? "${?" : "${") + HoconPath.Render(Path) + "}";
}

/// <summary>
/// Values written next to each other on one line: strings join (whitespace between them kept),
/// arrays append, objects merge. <see cref="Parts"/> holds the whitespace between values as
/// <see cref="HoconSpacing"/>.
/// </summary>
internal sealed class HoconConcat(ConfigOrigin origin, List<HoconValue> parts) : HoconUnresolved(origin)
{
    public List<HoconValue> Parts { get; } = parts;
}

/// <summary>The whitespace between two concatenated values; counts only when strings join.</summary>
internal sealed class HoconSpacing(ConfigOrigin origin, string text) : HoconValue(origin)
{
    public string Text { get; } = text;

    public override string Describe() => HoconScalar.Quote(Text);
}

/// <summary>
/// An object written over a field whose earlier value is not yet known (<c>a = ${x}</c> then
/// <c>a { y = 1 }</c>): merged once both sides are resolved, or the object wins if the other is not one.
/// </summary>
internal sealed class HoconDelayedMerge(ConfigOrigin origin, HoconObject above) : HoconUnresolved(origin)
{
    public HoconObject Above { get; } = above;
}
