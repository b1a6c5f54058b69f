namespace Router.Actors.Config.Hocon;

/// <summary>Spec section "Includes": <c>include "file"</c>, <c>include file("…")</c>, <c>include required(…)</c>.</summary>
internal sealed partial class HoconParser
{
    /// <summary>Nesting bound, so an include cycle through differently spelled paths still ends.</summary>
    private const int MaxIncludeDepth = 16;

    /// <summary><c>include</c> is a keyword only when a quoted file name or a form like <c>required(</c> follows.</summary>
    private bool IsInclude()
    {
        if (Peek.Kind != HoconTokenKind.Unquoted || Peek.Text != "include" || PeekAt(1).Kind != HoconTokenKind.Whitespace)
        {
            return false;
        }

        var next = PeekAt(2);
        return next.Kind == HoconTokenKind.QuotedString
            || (next.Kind == HoconTokenKind.Unquoted && next.Text.Contains('(', StringComparison.Ordinal));
    }

    private void ParseInclude(HoconObject obj)
    {
        var line = Advance().Line;
        SkipWhitespace();
        var required = false;
        var open = 0;
        // "required(file(" arrives as one unquoted token: '(' is allowed in unquoted text.
        while (Peek.Kind == HoconTokenKind.Unquoted)
        {
            var words = Advance().Text;
            while (words.Length > 0)
            {
                var paren = words.IndexOf('(', StringComparison.Ordinal);
                var word = paren < 0 ? words : words[..paren];
                switch (word)
                {
                    case "required" when paren >= 0 && !required && open == 0:
                        required = true;
                        break;
                    case "file" when paren >= 0 && open <= 1:
                        break;
                    case "url" or "classpath":
                        throw Error(line, $"include {word}(…) is not supported", "include files by path: include \"other.conf\"");
                    default:
                        throw Error(line, $"unexpected '{words}' in an include", "write include \"file.conf\" or include required(\"file.conf\")");
                }

                open++;
                words = words[(paren + 1)..];
            }

            SkipWhitespace();
        }

        if (Peek.Kind != HoconTokenKind.QuotedString)
        {
            throw Error(line, "expected a quoted file name after include", "write include \"file.conf\"");
        }

        var name = Advance().Text;
        SkipWhitespace();
        var closed = 0;
        while (closed < open && Peek.Kind == HoconTokenKind.Unquoted && Peek.Text.Trim(')').Length == 0)
        {
            closed += Advance().Text.Length;
            SkipWhitespace();
        }

        if (closed != open)
        {
            throw Error(line, "unbalanced parentheses in an include", "write include required(\"file.conf\")");
        }

        var included = LoadInclude(name, required, line);
        if (included is not null)
        {
            // Spec, "Include semantics: merging": the included object merges as if its fields were
            // written here, in place of the include.
            foreach (var (key, value) in included.Fields)
            {
                AssignField(obj, key, value);
            }
        }
    }

    private HoconObject? LoadInclude(string name, bool required, int line)
    {
        var directory = _baseDirectory ?? Directory.GetCurrentDirectory();
        var fullPath = Path.GetFullPath(Path.Combine(directory, name));
        if (_includeStack.Contains(fullPath, StringComparer.Ordinal) || _includeStack.Count >= MaxIncludeDepth)
        {
            throw Error(line, $"include cycle: \"{name}\" includes itself", "remove one of the includes");
        }

        if (!File.Exists(fullPath))
        {
            // Spec: a missing include is silently ignored unless it is required(…).
            return required
                ? throw Error(line, $"required include \"{name}\" not found (looked for {fullPath})", "create the file, or drop required(…) to make it optional")
                : null;
        }

        string text;
        try
        {
            text = File.ReadAllText(fullPath);
        }
        catch (IOException e)
        {
            throw Error(line, $"cannot read included file \"{name}\": {e.Message}", null);
        }
        catch (UnauthorizedAccessException e)
        {
            throw Error(line, $"cannot read included file \"{name}\": {e.Message}", "check the file's permissions");
        }

        var prefix = new List<string>(_includePrefix);
        prefix.AddRange(_objectPath);
        var parser = new HoconParser(text, Path.GetFileName(fullPath), Path.GetDirectoryName(fullPath), prefix, [.. _includeStack, fullPath]);
        return parser.ParseDocument();
    }
}
