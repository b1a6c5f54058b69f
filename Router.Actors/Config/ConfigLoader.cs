using System.Collections;
using Router.Actors.Config.Hocon;

namespace Router.Actors.Config;

/// <summary>
/// Loads the router's configuration: HOCON (<c>hocon/router.conf</c> by default) or the old router's
/// YAML (a file ending <c>.yaml</c>/<c>.yml</c>), then <c>OLLAMA_PROXY_*</c> environment overrides,
/// then checks every setting. Any problem throws one <see cref="ConfigException"/> listing them all.
/// </summary>
public static class ConfigLoader
{
    /// <summary>Where the default file sits, relative to the executable (the gateway build copies it there).</summary>
    public static readonly string DefaultRelativePath = Path.Combine("hocon", DefaultConfig.FileName);

    /// <summary>
    /// Loads <paramref name="path"/>, or the default configuration when it is null.
    /// </summary>
    /// <param name="environment">Variables for <c>${?ENV}</c> and overrides; null reads the process environment.</param>
    public static RouterConfig Load(string? path, IReadOnlyDictionary<string, string>? environment = null)
    {
        if (path is null)
        {
            return LoadDefault(environment);
        }

        if (path.Trim().Length == 0)
        {
            throw new ConfigException("the configuration file path is empty; pass --config FILE with a .conf, .yaml or .yml file");
        }

        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ConfigException($"configuration file {path} not found; check the path given to --config", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"cannot read configuration file {path}: {e.Message}", e);
        }

        var fullPath = Path.GetFullPath(path);
        var extension = Path.GetExtension(path);
        return extension.Equals(".yaml", StringComparison.OrdinalIgnoreCase) || extension.Equals(".yml", StringComparison.OrdinalIgnoreCase)
            ? FromLegacyYamlText(text, Path.GetFileName(fullPath), environment)
            : FromHoconText(text, Path.GetFileName(fullPath), environment, Path.GetDirectoryName(fullPath));
    }

    /// <summary>
    /// Loads <c>hocon/router.conf</c> next to the executable (<see cref="AppContext.BaseDirectory"/>),
    /// or the built-in copy of that file when it is not there.
    /// </summary>
    public static RouterConfig LoadDefault(IReadOnlyDictionary<string, string>? environment = null)
    {
        var path = Path.Combine(AppContext.BaseDirectory, DefaultRelativePath);
        return File.Exists(path)
            ? Load(path, environment)
            : FromHoconText(DefaultConfig.Text, DefaultConfig.FileName + " (built-in)", environment);
    }

    /// <summary>Reads HOCON text.</summary>
    /// <param name="originName">Names the text in errors, e.g. <c>router.conf</c>.</param>
    /// <param name="baseDirectory">Anchors relative includes; null is the current directory.</param>
    public static RouterConfig FromHoconText(string text, string originName, IReadOnlyDictionary<string, string>? environment = null, string? baseDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(originName);
        var env = environment ?? ProcessEnvironment();
        var errors = new ConfigErrors();
        var root = HoconParser.Parse(text, originName, baseDirectory);
        HoconResolver.Resolve(root, env, errors);
        errors.ThrowIfAny();
        return Bind(root, env, errors);
    }

    /// <summary>Reads the old router's YAML text.</summary>
    public static RouterConfig FromLegacyYamlText(string text, string originName, IReadOnlyDictionary<string, string>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(originName);
        var env = environment ?? ProcessEnvironment();
        var errors = new ConfigErrors();
        var root = LegacyYamlReader.Read(text, originName, env, errors);
        return Bind(root, env, errors);
    }

    private static RouterConfig Bind(HoconObject root, IReadOnlyDictionary<string, string> environment, ConfigErrors errors)
    {
        EnvironmentOverrides.Apply(root, environment, errors);
        var config = ConfigBinder.Bind(root, errors);
        errors.ThrowIfAny();
        return config;
    }

    private static Dictionary<string, string> ProcessEnvironment()
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            if (entry.Key is string name && entry.Value is string value)
            {
                variables[name] = value;
            }
        }

        return variables;
    }
}
