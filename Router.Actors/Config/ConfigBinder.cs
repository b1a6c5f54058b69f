using System.Collections.Immutable;
using Router.Actors.Config.Hocon;
using Router.Actors.Routing;

namespace Router.Actors.Config;

/// <summary>
/// Maps the resolved tree onto <see cref="RouterConfig"/>, checking every setting. Unset settings
/// keep the model's defaults. Problems are collected into <see cref="ConfigErrors"/>; the caller
/// throws them together.
/// </summary>
internal static partial class ConfigBinder
{
    private static readonly string[] ModeNames = ["performance", "balanced", "efficiency", "quiet", "ultra-efficiency", "auto"];

    public static RouterConfig Bind(HoconObject root, ConfigErrors errors)
    {
        var reader = new SettingsReader(root, "", errors);
        reader.RejectUnknown(ConfigSchema.RootKeys);
        var defaults = new RouterConfig();
        var config = new RouterConfig
        {
            Server = BindServer(reader.Child(ConfigSchema.Server), defaults.Server),
            Routing = BindRouting(reader.Child(ConfigSchema.Routing), defaults.Routing),
            Telemetry = BindTelemetry(reader.Child(ConfigSchema.Telemetry), defaults.Telemetry),
            Backends = BindBackends(reader, root),
            Cluster = BindCluster(reader.Child(ConfigSchema.Cluster), defaults.Cluster),
            ActorSystemHocon = BindAkka(root, errors),
        };
        CheckPeersCanReach(config, reader);
        return config;
    }

    /// <summary>The <c>akka { }</c> block as resolved HOCON text for the actor system; Akka checks it itself.</summary>
    private static string BindAkka(HoconObject root, ConfigErrors errors)
    {
        if (!root.TryGet(ConfigSchema.Akka, out var akka))
        {
            return "";
        }

        if (akka is not HoconObject block)
        {
            errors.Add(ConfigSchema.Akka, $"expected an object of Akka.NET settings, found {akka.Describe()}", akka.Origin,
                "write akka { loglevel = DEBUG } or remove the setting");
            return "";
        }

        return "akka = " + HoconRenderer.Render(block);
    }

    private static ServerConfig BindServer(SettingsReader? section, ServerConfig defaults)
    {
        if (section is null)
        {
            return defaults;
        }

        section.RejectUnknown(ConfigSchema.ServerKeys);
        const string PortHint = "use a port from 1 to 65535, or 0 to let the system pick one";
        var host = section.String("host", defaults.Host);
        if (host.Trim().Length == 0 && section.Object.TryGet("host", out var hostValue))
        {
            section.Error("host", "the bind address is empty", hostValue.Origin, "use 127.0.0.1 for this machine only, or 0.0.0.0 to listen on every network");
        }

        return defaults with
        {
            Host = host,
            HttpPort = section.Int("http-port", defaults.HttpPort, 0, 65535, PortHint),
            GrpcPort = section.Int("grpc-port", defaults.GrpcPort, 0, 65535, PortHint),
            MaxRequestBodyBytes = section.Size("max-request-body", defaults.MaxRequestBodyBytes, 1, long.MaxValue),
            GrpcMaxMessageBytes = (int)section.Size("grpc-max-message", defaults.GrpcMaxMessageBytes, 1, int.MaxValue),
            InlineIo = section.Bool("inline-io", defaults.InlineIo),
            AllowedOrigins = AllowedOrigins(section, defaults.AllowedOrigins),
        };
    }

    private static ImmutableArray<string> AllowedOrigins(SettingsReader section, ImmutableArray<string> defaults)
    {
        var origins = section.StringList("allowed-origins", defaults);
        foreach (var origin in origins)
        {
            if (origin != "*" && !origin.Contains("://", StringComparison.Ordinal))
            {
                section.Error("allowed-origins", $"\"{origin}\" is not an origin", section.Object.TryGet("allowed-origins", out var value) ? value.Origin : default,
                    "write it as scheme://host[:port], e.g. https://chat.example or http://192.168.1.5:*, or * for any");
            }
        }

        return origins;
    }

    private static RoutingConfig BindRouting(SettingsReader? section, RoutingConfig defaults)
    {
        if (section is null)
        {
            return defaults;
        }

        section.RejectUnknown(ConfigSchema.RoutingKeys);
        var mode = defaults.DefaultMode;
        if (section.OptionalString("default-mode") is { } modeText && section.Object.TryGet("default-mode", out var modeValue))
        {
            if (TryParseMode(modeText, out var parsed))
            {
                mode = parsed;
            }
            else
            {
                section.Error("default-mode", $"unknown mode {modeValue.Describe()}", modeValue.Origin, "valid modes: " + string.Join(", ", ModeNames));
            }
        }

        var preemptBelow = defaults.CriticalPreemptsBelow;
        if (section.OptionalString("critical-preempts-below") is { } preemptText && section.Object.TryGet("critical-preempts-below", out var preemptValue))
        {
            switch (preemptText)
            {
                case "none": preemptBelow = null; break;
                case "normal": preemptBelow = Routing.Priority.Normal; break;
                case "high": preemptBelow = Routing.Priority.High; break;
                case "critical": preemptBelow = Routing.Priority.Critical; break;
                default:
                    section.Error("critical-preempts-below", $"unknown priority {preemptValue.Describe()}", preemptValue.Origin,
                        "valid: none (never preempt), normal (preempt best effort), high, critical");
                    break;
            }
        }

        var autoOptimize = section.Bool("auto-optimize", defaults.AutoOptimize);
        return defaults with
        {
            // auto-optimize (legacy auto_optimize) means "start in Auto", whatever default-mode says.
            DefaultMode = autoOptimize ? EfficiencyMode.Auto : mode,
            AutoOptimize = autoOptimize,
            PowerAware = section.Bool("power-aware", defaults.PowerAware),
            MaxAttempts = section.Int("max-attempts", defaults.MaxAttempts, 1, 100),
            AgingInterval = section.Duration("aging-interval", defaults.AgingInterval),
            MinSamplesForLiveMetrics = section.Int("min-samples-for-live-metrics", defaults.MinSamplesForLiveMetrics, 1),
            DefaultExpectedTokens = section.Int("default-expected-tokens", defaults.DefaultExpectedTokens, 1),
            CriticalPreemptsBelow = preemptBelow,
        };
    }

    private static TelemetryConfig BindTelemetry(SettingsReader? section, TelemetryConfig defaults)
    {
        if (section is null)
        {
            return defaults;
        }

        section.RejectUnknown(ConfigSchema.TelemetryKeys);
        return defaults with
        {
            SysfsRoot = section.String("sysfs-root", defaults.SysfsRoot),
            SampleInterval = section.Duration("sample-interval", defaults.SampleInterval),
            OtlpEndpoint = section.Url("otlp-endpoint") ?? defaults.OtlpEndpoint,
            NvidiaSmi = section.Bool("nvidia-smi", defaults.NvidiaSmi),
        };
    }

    /// <summary>
    /// Accepts the kebab-case names and, for files written for the old router, their spellings
    /// without separators in any case (<c>UltraEfficiency</c>, <c>ultra_efficiency</c>).
    /// </summary>
    internal static bool TryParseMode(string text, out EfficiencyMode mode)
    {
        var normalized = text.Trim().Replace("-", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal);
        foreach (var candidate in Enum.GetValues<EfficiencyMode>())
        {
            if (string.Equals(candidate.ToString(), normalized, StringComparison.OrdinalIgnoreCase))
            {
                mode = candidate;
                return true;
            }
        }

        mode = default;
        return false;
    }
}
