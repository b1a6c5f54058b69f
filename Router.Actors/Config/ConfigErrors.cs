namespace Router.Actors.Config;

/// <summary>Collects problems so that one run reports all of them, not just the first.</summary>
internal sealed class ConfigErrors
{
    private readonly List<string> _errors = [];
    /// <summary>A setting inherited by every backend is wrong once, not once per backend.</summary>
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);

    public int Count => _errors.Count;

    /// <summary>
    /// Adds <c>path: message (origin); hint</c>, the one shape every configuration error has: what is
    /// wrong, where it was written, and how to fix it.
    /// </summary>
    public void Add(string? path, string message, ConfigOrigin? origin, string? hint = null)
    {
        var text = Format(path, message, origin, hint);
        if (_seen.Add(text))
        {
            _errors.Add(text);
        }
    }

    public static string Format(string? path, string message, ConfigOrigin? origin, string? hint = null)
    {
        var text = string.IsNullOrEmpty(path) ? message : path + ": " + message;
        if (origin is { } o)
        {
            text += " (" + o + ")";
        }

        if (hint is not null)
        {
            text += "; " + hint;
        }

        return text;
    }

    public void ThrowIfAny()
    {
        if (_errors.Count > 0)
        {
            throw ToException();
        }
    }

    public ConfigException ToException() => new(_errors);
}
