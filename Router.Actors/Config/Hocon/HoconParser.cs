using System.Text;

namespace Router.Actors.Config.Hocon;

/// <summary>
/// Builds the value tree from tokens (spec sections "Syntax" through "Includes"). Duplicate keys merge
/// here; substitutions and concatenations that need them stay unresolved for <see cref="HoconResolver"/>.
/// </summary>
internal sealed partial class HoconParser
{
    private readonly List<HoconToken> _tokens;
    private readonly string _originName;
    private readonly string? _baseDirectory;
    private readonly IReadOnlyList<string> _includePrefix;
    private readonly IReadOnlyList<string> _includeStack;
    /// <summary>Keys from the document root to the object being parsed, for <c>+=</c>.</summary>
    private readonly List<string> _objectPath = [];
    private int _index;

    private HoconParser(string text, string originName, string? baseDirectory, IReadOnlyList<string> includePrefix, IReadOnlyList<string> includeStack)
    {
        _tokens = HoconTokenizer.Tokenize(text, originName);
        _originName = originName;
        _baseDirectory = baseDirectory;
        _includePrefix = includePrefix;
        _includeStack = includeStack;
    }

    /// <summary>Parses a whole document. <paramref name="baseDirectory"/> anchors relative includes.</summary>
    public static HoconObject Parse(string text, string originName, string? baseDirectory) =>
        new HoconParser(text, originName, baseDirectory, [], []).ParseDocument();

    private HoconToken Peek => _tokens[_index];

    private HoconToken PeekAt(int offset) => _tokens[Math.Min(_index + offset, _tokens.Count - 1)];

    private ConfigOrigin OriginAt(int line) => new(_originName, line);

    private HoconToken Advance() => _tokens[_index++];

    private HoconObject ParseDocument()
    {
        SkipBlank();
        HoconObject root;
        if (Peek.Kind == HoconTokenKind.OpenBrace)
        {
            // A key cannot start with '{', so a leading brace opens the root object.
            root = ParseBracedObject();
            SkipBlank();
            if (Peek.Kind != HoconTokenKind.End)
            {
                throw Error(Peek.Line, "unexpected text after the closing '}' of the root object", "remove it, or drop the root braces");
            }
        }
        else if (Peek.Kind == HoconTokenKind.OpenBracket)
        {
            throw Error(Peek.Line, "the root of a configuration must be an object, not an array", "wrap it as key = [ ... ]");
        }
        else
        {
            root = ParseObjectBody(OriginAt(Peek.Line), braced: false, openLine: 0);
        }

        return root;
    }

    private HoconObject ParseBracedObject()
    {
        var open = Advance();
        return ParseObjectBody(OriginAt(open.Line), braced: true, openLine: open.Line);
    }

    private HoconObject ParseObjectBody(ConfigOrigin origin, bool braced, int openLine)
    {
        var obj = new HoconObject(origin);
        while (true)
        {
            SkipBlank();
            var token = Peek;
            switch (token.Kind)
            {
                case HoconTokenKind.CloseBrace when braced:
                    Advance();
                    return obj;
                case HoconTokenKind.CloseBrace:
                    throw Error(token.Line, "unexpected '}' with no object open", "remove it or add the matching '{'");
                case HoconTokenKind.End when braced:
                    throw Error(token.Line, $"missing '}}' for the object opened at line {openLine}", "add the closing '}'");
                case HoconTokenKind.End:
                    return obj;
                case HoconTokenKind.Comma:
                    throw Error(token.Line, "unexpected ','", "a comma goes only between two fields");
            }

            if (IsInclude())
            {
                ParseInclude(obj);
            }
            else
            {
                ParseField(obj);
            }

            SkipWhitespace();
            token = Peek;
            if (token.Kind == HoconTokenKind.Comma)
            {
                Advance();
            }
            else if (token.Kind is not (HoconTokenKind.Newline or HoconTokenKind.CloseBrace or HoconTokenKind.End))
            {
                throw Error(token.Line, $"expected ',' or a new line after a field, got {Describe(token)}", "put each field on its own line or separate fields with ','");
            }
        }
    }

    private void ParseField(HoconObject obj)
    {
        var line = Peek.Line;
        var key = ParseKey();
        SkipWhitespace();
        var token = Peek;
        var depth = _objectPath.Count;
        _objectPath.AddRange(key);
        try
        {
            HoconValue value;
            switch (token.Kind)
            {
                case HoconTokenKind.OpenBrace:
                    value = ParseBracedObject();
                    break;
                case HoconTokenKind.Colon or HoconTokenKind.Equals:
                    Advance();
                    SkipBlank();
                    value = ParseValue(token.Line);
                    break;
                case HoconTokenKind.PlusEquals:
                    Advance();
                    SkipBlank();
                    value = AppendToSelf(ParseValue(token.Line), line);
                    break;
                default:
                    throw Error(token.Line, $"expected '=', ':' or '{{' after key {HoconPath.Render(key)}, got {Describe(token)}", "write key = value");
            }

            Assign(obj, key, value);
        }
        finally
        {
            _objectPath.RemoveRange(depth, _objectPath.Count - depth);
        }
    }

    /// <summary><c>a += x</c> means <c>a = ${?a} [x]</c>.</summary>
    private HoconConcat AppendToSelf(HoconValue element, int line)
    {
        var origin = OriginAt(line);
        var self = new List<string>(_includePrefix);
        self.AddRange(_objectPath);
        var array = new HoconArray(origin);
        array.Items.Add(element);
        return new HoconConcat(origin, [new HoconSubstitution(origin, self, optional: true), array]);
    }

    /// <summary>
    /// A key is a path expression: unquoted text splits at dots, quoted text never does, and
    /// whitespace inside the key is kept.
    /// </summary>
    private List<string> ParseKey()
    {
        var line = Peek.Line;
        var start = _index;
        while (Peek.Kind is HoconTokenKind.Unquoted or HoconTokenKind.QuotedString or HoconTokenKind.Whitespace)
        {
            Advance();
        }

        var end = _index;
        while (end > start && _tokens[end - 1].Kind == HoconTokenKind.Whitespace)
        {
            end--;
        }

        if (end == start)
        {
            throw Error(line, $"expected a key, got {Describe(Peek)}", "fields are written key = value");
        }

        var path = new List<string>();
        var segment = new StringBuilder();
        var segmentHasText = false;
        for (var i = start; i < end; i++)
        {
            var token = _tokens[i];
            switch (token.Kind)
            {
                case HoconTokenKind.QuotedString:
                    segment.Append(token.Text);
                    segmentHasText = true;
                    break;
                case HoconTokenKind.Whitespace:
                    segment.Append(token.Text);
                    break;
                default:
                    var pieces = token.Text.Split('.');
                    for (var p = 0; p < pieces.Length; p++)
                    {
                        if (p > 0)
                        {
                            EndSegment();
                        }

                        segment.Append(pieces[p]);
                        segmentHasText |= pieces[p].Length > 0;
                    }

                    break;
            }
        }

        EndSegment();
        return path;

        void EndSegment()
        {
            if (!segmentHasText)
            {
                throw Error(line, "empty key in a dotted path", "quote keys that contain dots, e.g. \"a.b\" = 1");
            }

            path.Add(segment.ToString());
            segment.Clear();
            segmentHasText = false;
        }
    }

    /// <summary>
    /// A value runs to the end of the line, a comma or a closing bracket. Several values on one line
    /// concatenate; the whitespace between them is kept for string concatenation.
    /// </summary>
    private HoconValue ParseValue(int fieldLine)
    {
        var parts = new List<HoconValue>();
        var done = false;
        while (!done)
        {
            var token = Peek;
            var origin = OriginAt(token.Line);
            switch (token.Kind)
            {
                case HoconTokenKind.Newline or HoconTokenKind.Comma or HoconTokenKind.CloseBrace or HoconTokenKind.CloseBracket or HoconTokenKind.End:
                    done = true;
                    break;
                case HoconTokenKind.Whitespace:
                    Advance();
                    parts.Add(new HoconSpacing(origin, token.Text));
                    break;
                case HoconTokenKind.QuotedString:
                    Advance();
                    parts.Add(HoconScalar.String(origin, token.Text));
                    break;
                case HoconTokenKind.Unquoted:
                    Advance();
                    parts.Add(HoconScalar.FromUnquoted(origin, token.Text));
                    break;
                case HoconTokenKind.Substitution:
                    Advance();
                    parts.Add(new HoconSubstitution(origin, token.Path!, token.Optional)
                    {
                        IncludedPath = _includePrefix.Count == 0 ? null : [.. _includePrefix, .. token.Path!],
                    });
                    break;
                case HoconTokenKind.OpenBrace:
                    parts.Add(ParseBracedObject());
                    break;
                case HoconTokenKind.OpenBracket:
                    parts.Add(ParseArray());
                    break;
                default:
                    throw Error(token.Line, $"unexpected {Describe(token)} in a value", "put the value in double quotes if it contains ':', '=' or '+', e.g. \"http://localhost:11434\"");
            }
        }

        while (parts.Count > 0 && parts[^1] is HoconSpacing)
        {
            parts.RemoveAt(parts.Count - 1);
        }

        while (parts.Count > 0 && parts[0] is HoconSpacing)
        {
            parts.RemoveAt(0);
        }

        if (parts.Count == 0)
        {
            throw Error(fieldLine, $"expected a value, got {Describe(Peek)}", "write key = value, or use \"\" for an empty string");
        }

        if (parts.Count == 1)
        {
            return parts[0];
        }

        if (parts.TrueForAll(static p => p is HoconScalar or HoconSpacing))
        {
            // Spec, "String value concatenation": simple values join as a string, whitespace kept.
            var text = new StringBuilder();
            foreach (var part in parts)
            {
                text.Append(part is HoconScalar scalar ? scalar.Text : ((HoconSpacing)part).Text);
            }

            return HoconScalar.String(parts[0].Origin, text.ToString());
        }

        return new HoconConcat(parts[0].Origin, parts);
    }

    private HoconArray ParseArray()
    {
        var open = Advance();
        var array = new HoconArray(OriginAt(open.Line));
        while (true)
        {
            SkipBlank();
            var token = Peek;
            switch (token.Kind)
            {
                case HoconTokenKind.CloseBracket:
                    Advance();
                    return array;
                case HoconTokenKind.End:
                    throw Error(token.Line, $"missing ']' for the array opened at line {open.Line}", "add the closing ']'");
                case HoconTokenKind.Comma:
                    throw Error(token.Line, "unexpected ','", "a comma goes only between two elements");
            }

            array.Items.Add(ParseValue(token.Line));
            SkipWhitespace();
            token = Peek;
            if (token.Kind == HoconTokenKind.Comma)
            {
                Advance();
            }
            else if (token.Kind == HoconTokenKind.End)
            {
                throw Error(token.Line, $"missing ']' for the array opened at line {open.Line}", "add the closing ']'");
            }
            else if (token.Kind is not (HoconTokenKind.Newline or HoconTokenKind.CloseBracket))
            {
                throw Error(token.Line, $"expected ',' or ']' after an array element, got {Describe(token)}", null);
            }
        }
    }

    private void SkipBlank()
    {
        while (Peek.Kind is HoconTokenKind.Whitespace or HoconTokenKind.Newline)
        {
            Advance();
        }
    }

    private void SkipWhitespace()
    {
        while (Peek.Kind == HoconTokenKind.Whitespace)
        {
            Advance();
        }
    }

    private static string Describe(HoconToken token) => token.Kind switch
    {
        HoconTokenKind.End => "the end of the file",
        HoconTokenKind.Newline => "a new line",
        HoconTokenKind.Whitespace => "whitespace",
        HoconTokenKind.Comma => "','",
        HoconTokenKind.Colon => "':'",
        HoconTokenKind.Equals => "'='",
        HoconTokenKind.PlusEquals => "'+='",
        HoconTokenKind.OpenBrace => "'{'",
        HoconTokenKind.CloseBrace => "'}'",
        HoconTokenKind.OpenBracket => "'['",
        HoconTokenKind.CloseBracket => "']'",
        HoconTokenKind.QuotedString => HoconScalar.Quote(token.Text),
        HoconTokenKind.Substitution => "a substitution",
        _ => token.Text,
    };

    private ConfigException Error(int line, string message, string? hint) =>
        new(ConfigErrors.Format(null, message, OriginAt(line), hint));
}
