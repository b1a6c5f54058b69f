namespace Router.Actors.Config;

/// <summary>
/// Where a configuration value came from: a file name and 1-based line, or a source without lines
/// such as an environment variable (line 0).
/// </summary>
internal readonly record struct ConfigOrigin(string Name, int Line)
{
    public static ConfigOrigin Environment(string variable) => new("env " + variable, 0);

    public override string ToString() => Line > 0 ? $"{Name}:{Line}" : Name;
}
