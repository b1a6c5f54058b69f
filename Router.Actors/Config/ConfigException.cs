using System.Collections.Immutable;
using System.Text;

namespace Router.Actors.Config;

/// <summary>
/// The configuration cannot be used. <see cref="Errors"/> lists every problem found, each naming the
/// setting's path and origin (file and line, or environment variable) and, where it helps, how to fix it.
/// The daemon prints <see cref="Exception.Message"/> and exits with code 2.
/// </summary>
public sealed class ConfigException : Exception
{
    public ConfigException()
        : this(ImmutableArray.Create("invalid configuration"))
    {
    }

    public ConfigException(string message)
        : this(ImmutableArray.Create(message))
    {
    }

    public ConfigException(string message, Exception innerException)
        : base(Format(ImmutableArray.Create(message)), innerException)
    {
        Errors = ImmutableArray.Create(message);
    }

    public ConfigException(IEnumerable<string> errors)
        : this(errors.ToImmutableArray())
    {
    }

    private ConfigException(ImmutableArray<string> errors)
        : base(Format(errors))
    {
        Errors = errors;
    }

    /// <summary>Every problem found, one line each, in the order they were found.</summary>
    public IReadOnlyList<string> Errors { get; }

    private static string Format(ImmutableArray<string> errors)
    {
        if (errors.Length == 1)
        {
            return "Invalid configuration: " + errors[0];
        }

        var text = new StringBuilder();
        text.Append("Invalid configuration (").Append(errors.Length).Append(" errors):");
        foreach (var error in errors)
        {
            text.Append('\n').Append("  - ").Append(error);
        }

        return text.ToString();
    }
}
