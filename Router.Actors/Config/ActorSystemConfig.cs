using System.Reflection;
using AkkaConfig = Akka.Configuration.Config;
using AkkaConfigurationFactory = Akka.Configuration.ConfigurationFactory;

namespace Router.Actors.Config;

/// <summary>
/// The actor system's Akka.NET configuration: the router's defaults (<c>actor-system.conf</c>, built
/// in), under the <c>akka { }</c> block of the router's own configuration file.
/// </summary>
public static class ActorSystemConfig
{
    /// <summary>The name of the router's actor system, as in <c>akka://ollama-proxy/user/…</c>.</summary>
    public const string SystemName = "ollama-proxy";

    private const string ResourceName = "actor-system.conf";

    private static readonly Lazy<AkkaConfig> s_defaults = new(() => AkkaConfigurationFactory.ParseString(LoadDefaults()));

    /// <summary>The built-in settings alone.</summary>
    public static AkkaConfig Defaults => s_defaults.Value;

    /// <summary>The configuration's <c>akka { }</c> block over the defaults; <paramref name="overrides"/> (tests) over both.</summary>
    public static AkkaConfig For(RouterConfig config, string? overrides = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        var result = Defaults;
        if (config.ActorSystemHocon.Length > 0)
        {
            result = AkkaConfigurationFactory.ParseString(config.ActorSystemHocon).WithFallback(result);
        }

        if (!string.IsNullOrEmpty(overrides))
        {
            result = AkkaConfigurationFactory.ParseString(overrides).WithFallback(result);
        }

        return result;
    }

    private static string LoadDefaults()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The built-in {ResourceName} is missing from {typeof(ActorSystemConfig).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
