namespace Router.Actors.Config.Hocon;

internal enum HoconTokenKind
{
    End,
    Newline,
    /// <summary>Spaces and tabs; significant only between concatenated values and inside keys.</summary>
    Whitespace,
    Comma,
    Colon,
    Equals,
    PlusEquals,
    OpenBrace,
    CloseBrace,
    OpenBracket,
    CloseBracket,
    QuotedString,
    Unquoted,
    Substitution,
}

/// <summary>
/// One token. <see cref="Text"/> is the decoded string for quoted strings, the raw characters for
/// unquoted text and whitespace; a substitution carries its <see cref="Path"/>.
/// </summary>
internal readonly record struct HoconToken(HoconTokenKind Kind, int Line, string Text = "", IReadOnlyList<string>? Path = null, bool Optional = false);
