using System.Globalization;
using System.Text;

namespace Router.Actors.Config.Hocon;

/// <summary>
/// Splits HOCON text into tokens (spec sections "Comments", "Unquoted strings", "Multi-line strings",
/// "Substitutions"). Looks ahead at most three characters. Syntax errors throw <see cref="ConfigException"/>
/// naming the file and line.
/// </summary>
internal sealed class HoconTokenizer
{
    private const string TripleQuote = "\"\"\"";

    private readonly string _text;
    private readonly string _originName;
    private int _position;
    private int _line = 1;

    public HoconTokenizer(string text, string originName)
    {
        _text = text;
        _originName = originName;
        // A byte order mark is not content.
        if (_text.Length > 0 && _text[0] == '\uFEFF')
        {
            _position = 1;
        }
    }

    /// <summary>Characters that end an unquoted string; the spec reserves them.</summary>
    public static bool IsForbiddenInUnquoted(char c) => c is '$' or '"' or '{' or '}' or '[' or ']' or ':' or '='
        or ',' or '+' or '#' or '`' or '^' or '?' or '!' or '@' or '*' or '&' or '\\';

    public static List<HoconToken> Tokenize(string text, string originName)
    {
        var tokenizer = new HoconTokenizer(text, originName);
        var tokens = new List<HoconToken>();
        HoconToken token;
        do
        {
            token = tokenizer.Next();
            tokens.Add(token);
        }
        while (token.Kind != HoconTokenKind.End);

        return tokens;
    }

    public HoconToken Next()
    {
        if (_position >= _text.Length)
        {
            return new HoconToken(HoconTokenKind.End, _line);
        }

        var c = _text[_position];
        var line = _line;
        if (c == '#' || StartsWith("//"))
        {
            SkipComment();
            return Next();
        }

        if (c == '\n')
        {
            _position++;
            _line++;
            return new HoconToken(HoconTokenKind.Newline, line);
        }

        if (IsWhitespace(c))
        {
            var start = _position;
            while (_position < _text.Length && IsWhitespace(_text[_position]))
            {
                _position++;
            }

            return new HoconToken(HoconTokenKind.Whitespace, line, _text[start.._position]);
        }

        switch (c)
        {
            case ',':
                _position++;
                return new HoconToken(HoconTokenKind.Comma, line);
            case ':':
                _position++;
                return new HoconToken(HoconTokenKind.Colon, line);
            case '=':
                _position++;
                return new HoconToken(HoconTokenKind.Equals, line);
            case '{':
                _position++;
                return new HoconToken(HoconTokenKind.OpenBrace, line);
            case '}':
                _position++;
                return new HoconToken(HoconTokenKind.CloseBrace, line);
            case '[':
                _position++;
                return new HoconToken(HoconTokenKind.OpenBracket, line);
            case ']':
                _position++;
                return new HoconToken(HoconTokenKind.CloseBracket, line);
            case '+' when StartsWith("+="):
                _position += 2;
                return new HoconToken(HoconTokenKind.PlusEquals, line);
            case '"' when StartsWith(TripleQuote):
                return new HoconToken(HoconTokenKind.QuotedString, line, ReadTripleQuoted());
            case '"':
                _position++;
                return new HoconToken(HoconTokenKind.QuotedString, line, ReadQuotedBody());
            case '$':
                return ReadSubstitution();
        }

        if (IsForbiddenInUnquoted(c))
        {
            throw Error($"unexpected character '{c}'", "put the value in double quotes if it contains this character");
        }

        return new HoconToken(HoconTokenKind.Unquoted, line, ReadUnquoted());
    }

    /// <summary>Newline is a token of its own; every other Unicode space separates.</summary>
    private static bool IsWhitespace(char c) => c != '\n' && (char.IsWhiteSpace(c) || c == '\uFEFF');

    private bool StartsWith(string prefix) => string.CompareOrdinal(_text, _position, prefix, 0, prefix.Length) == 0;

    private void SkipComment()
    {
        while (_position < _text.Length && _text[_position] != '\n')
        {
            _position++;
        }
    }

    private string ReadUnquoted()
    {
        var start = _position;
        while (_position < _text.Length)
        {
            var c = _text[_position];
            if (c == '\n' || IsWhitespace(c) || IsForbiddenInUnquoted(c) || StartsWith("//"))
            {
                break;
            }

            _position++;
        }

        return _text[start.._position];
    }

    /// <summary>Reads a JSON string after its opening quote, through the closing quote.</summary>
    private string ReadQuotedBody()
    {
        var value = new StringBuilder();
        while (true)
        {
            if (_position >= _text.Length || _text[_position] == '\n')
            {
                throw Error("unterminated string", "close it with \" on the same line, or use \"\"\" for text over several lines");
            }

            var c = _text[_position++];
            if (c == '"')
            {
                return value.ToString();
            }

            if (c != '\\')
            {
                value.Append(c);
                continue;
            }

            if (_position >= _text.Length)
            {
                throw Error("unterminated escape in string", null);
            }

            var escape = _text[_position++];
            switch (escape)
            {
                case '"': value.Append('"'); break;
                case '\\': value.Append('\\'); break;
                case '/': value.Append('/'); break;
                case 'b': value.Append('\b'); break;
                case 'f': value.Append('\f'); break;
                case 'n': value.Append('\n'); break;
                case 'r': value.Append('\r'); break;
                case 't': value.Append('\t'); break;
                case 'u' when _position + 4 <= _text.Length
                    && int.TryParse(_text.AsSpan(_position, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code):
                    value.Append((char)code);
                    _position += 4;
                    break;
                default:
                    throw Error($"invalid escape '\\{escape}' in string", "escape a backslash as \\\\");
            }
        }
    }

    /// <summary>
    /// <c>"""…"""</c>: raw text, newlines included, no escapes. Per the spec, quotes right before the
    /// closing three belong to the string (<c>""""a""""</c> is <c>"a"</c>).
    /// </summary>
    private string ReadTripleQuoted()
    {
        var startLine = _line;
        _position += TripleQuote.Length;
        var start = _position;
        while (_position < _text.Length)
        {
            if (StartsWith(TripleQuote))
            {
                var runEnd = _position;
                while (runEnd < _text.Length && _text[runEnd] == '"')
                {
                    runEnd++;
                }

                _position = runEnd;
                return _text[start..(runEnd - TripleQuote.Length)];
            }

            if (_text[_position] == '\n')
            {
                _line++;
            }

            _position++;
        }

        _line = startLine;
        throw Error("unterminated \"\"\" string", "close it with \"\"\"");
    }

    /// <summary><c>${path}</c> or <c>${?path}</c>; the path may quote keys that hold dots.</summary>
    private HoconToken ReadSubstitution()
    {
        var line = _line;
        if (!StartsWith("${"))
        {
            throw Error("'$' must start a substitution ${path}", "put the value in double quotes if it contains '$'");
        }

        _position += 2;
        var optional = false;
        if (_position < _text.Length && _text[_position] == '?')
        {
            optional = true;
            _position++;
        }

        var path = new List<string>();
        var key = new StringBuilder();
        var sawKey = false;
        while (true)
        {
            if (_position >= _text.Length || _text[_position] == '\n')
            {
                throw Error("unterminated substitution", "close it with }");
            }

            var c = _text[_position];
            if (c == '}')
            {
                _position++;
                break;
            }

            if (c == '"')
            {
                _position++;
                key.Append(ReadQuotedBody());
                sawKey = true;
            }
            else if (c == '.')
            {
                _position++;
                EndKey();
            }
            else
            {
                key.Append(c);
                _position++;
                sawKey |= !IsWhitespace(c);
            }
        }

        EndKey();
        return new HoconToken(HoconTokenKind.Substitution, line, Path: path, Optional: optional);

        void EndKey()
        {
            var text = key.ToString().Trim();
            if (!sawKey)
            {
                throw Error("empty key in substitution path", "write it like ${server.http-port}");
            }

            path.Add(text);
            key.Clear();
            sawKey = false;
        }
    }

    private ConfigException Error(string message, string? hint)
    {
        return new ConfigException(ConfigErrors.Format(null, message, new ConfigOrigin(_originName, _line), hint));
    }
}
