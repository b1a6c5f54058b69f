using System.Reflection;

namespace Router.Actors.Config;

/// <summary>
/// The default configuration, used when <c>hocon/router.conf</c> is not next to the executable.
/// It is that very file, embedded in the assembly at build time, so the two cannot drift apart.
/// </summary>
internal static class DefaultConfig
{
    public const string FileName = "router.conf";

    private static readonly Lazy<string> s_text = new(Load);

    public static string Text => s_text.Value;

    private static string Load()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(FileName)
            ?? throw new InvalidOperationException($"The built-in {FileName} is missing from {typeof(DefaultConfig).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
