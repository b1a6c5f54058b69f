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
            DBus = BindDBus(reader.Child(ConfigSchema.DBus), defaults.DBus),
            Desktop = BindDesktop(reader.Child(ConfigSchema.Desktop), defaults.Desktop),
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

        var server = defaults with
        {
            Host = host,
            HttpPort = section.Int("http-port", defaults.HttpPort, 0, 65535, PortHint),
            GrpcPort = section.Int("grpc-port", defaults.GrpcPort, 0, 65535, PortHint),
            MaxRequestBodyBytes = section.Size("max-request-body", defaults.MaxRequestBodyBytes, 1, long.MaxValue),
            GrpcMaxMessageBytes = (int)section.Size("grpc-max-message", defaults.GrpcMaxMessageBytes, 1, int.MaxValue),
            InlineIo = section.Bool("inline-io", defaults.InlineIo),
            DrainTimeout = section.Duration("drain-timeout", defaults.DrainTimeout),
            AllowedOrigins = AllowedOrigins(section, defaults.AllowedOrigins),
            ApiKeys = ApiKeys(section, defaults.ApiKeys),
            Insecure = section.Bool("insecure", defaults.Insecure),
            AllowedHosts = AllowedHosts(section, defaults.AllowedHosts),
        };

        // Beyond this machine, anyone who can reach the port could run models on its devices and
        // change its mode: that takes keys, or saying out loud that the network is trusted.
        if (!server.IsLoopbackOnly && server.ApiKeys.IsEmpty && !server.Insecure)
        {
            section.Error("api-keys", $"the router would listen on {server.Host}, beyond this machine, with no API keys: anyone who can reach it could run models and change its mode",
                section.Object.TryGet("host", out var bound) ? bound.Origin : default,
                "set server.api-keys (or OLLAMA_PROXY_API_KEYS) to one or more keys, e.g. api-keys = [\"<the output of: openssl rand -hex 32>\"]; "
                + "or set server.insecure = true to serve without keys on a network you trust; or keep server.host = 127.0.0.1");
        }

        return server;
    }

    /// <summary>Shortest API key accepted: 16 characters of a random hex key is 64 bits.</summary>
    internal const int MinApiKeyLength = 16;

    /// <summary>
    /// Keys travel in an Authorization header, in gRPC metadata and, from a browser's WebSocket, in
    /// a subprotocol name, so they are limited to the characters all three carry unchanged.
    /// </summary>
    private static ImmutableArray<string> ApiKeys(SettingsReader section, ImmutableArray<string> defaults)
    {
        var keys = section.StringList("api-keys", defaults);
        foreach (var key in keys)
        {
            if (key.Length < MinApiKeyLength || !key.All(static c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~'))
            {
                section.Error("api-keys", $"an API key must be at least {MinApiKeyLength} letters, digits, '-', '.', '_' or '~' (one of {keys.Length} is not)",
                    section.Object.TryGet("api-keys", out var value) ? value.Origin : default,
                    "generate one with: openssl rand -hex 32");
            }
        }

        return keys;
    }

    private static ImmutableArray<string> AllowedHosts(SettingsReader section, ImmutableArray<string> defaults)
    {
        var hosts = section.StringList("allowed-hosts", defaults);
        foreach (var host in hosts)
        {
            if (host.Contains("://", StringComparison.Ordinal) || host.Contains('/', StringComparison.Ordinal) || host.Contains(' ', StringComparison.Ordinal))
            {
                section.Error("allowed-hosts", $"\"{host}\" is not a host name", section.Object.TryGet("allowed-hosts", out var value) ? value.Origin : default,
                    "write the name alone, as clients put it in the URL: router.lan, *.example.com, or * for any");
            }
        }

        return hosts;
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
            if (WireNames.TryParseMode(modeText, out var parsed))
            {
                mode = parsed;
            }
            else
            {
                section.Error("default-mode", $"unknown mode {modeValue.Describe()}", modeValue.Origin, "valid modes: " + WireNames.ValidModes);
            }
        }

        var preemptBelow = defaults.CriticalPreemptsBelow;
        if (section.OptionalString("critical-preempts-below") is { } preemptText && section.Object.TryGet("critical-preempts-below", out var preemptValue))
        {
            // Nothing runs below best effort, so "best-effort" would never preempt: "none" says so.
            if (preemptText == "none")
            {
                preemptBelow = null;
            }
            else if (WireNames.Priorities.Skip(1).FirstOrDefault(p => WireNames.ToWire(p) == preemptText) is var named && named != Routing.Priority.BestEffort)
            {
                preemptBelow = named;
            }
            else
            {
                section.Error("critical-preempts-below", $"unknown priority {preemptValue.Describe()}", preemptValue.Origin,
                    "valid: none (never preempt), normal (preempt best effort), high, critical");
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
            MaxQueueWait = BindQueueWaits(section.Child(ConfigSchema.MaxQueueWait), defaults.MaxQueueWait),
            PanicThreshold = section.Double("panic-threshold", defaults.PanicThreshold, 0, 1),
            WaitBudget = BindQueueWaits(section.Child(ConfigSchema.WaitBudget), defaults.WaitBudget),
        };
    }

    private static QueueWaits BindQueueWaits(SettingsReader? section, QueueWaits defaults)
    {
        if (section is null)
        {
            return defaults;
        }

        section.RejectUnknown(ConfigSchema.QueueLimitKeys);
        return new QueueWaits(
            section.Duration("best-effort", defaults.BestEffort),
            section.Duration("normal", defaults.Normal),
            section.Duration("high", defaults.High),
            section.Duration("critical", defaults.Critical));
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
    internal static bool TryParseMode(string text, out EfficiencyMode mode) => WireNames.TryParseMode(text, out mode);

    private static DBusConfig BindDBus(SettingsReader? section, DBusConfig defaults)
    {
        if (section is null)
        {
            return defaults;
        }

        section.RejectUnknown(ConfigSchema.DBusKeys);
        return defaults with
        {
            Enabled = section.Bool("enabled", defaults.Enabled),
            RequireName = section.Bool("require-name", defaults.RequireName),
            RequestRoutedSignal = section.Bool("request-routed-signal", defaults.RequestRoutedSignal),
            RequestRoutedPerSecond = section.Int("request-routed-per-second", defaults.RequestRoutedPerSecond, 1, 1000,
                "use 1 to 1000 signals a second; turn the signal off with request-routed-signal = false"),
        };
    }

    private static DesktopConfig BindDesktop(SettingsReader? section, DesktopConfig defaults)
    {
        if (section is null)
        {
            return defaults;
        }

        section.RejectUnknown(ConfigSchema.DesktopKeys);
        return defaults with
        {
            Notifications = section.Bool("notifications", defaults.Notifications),
            NotificationInterval = section.Duration("notification-interval", defaults.NotificationInterval),
            PowerState = section.Bool("power-state", defaults.PowerState),
        };
    }
}
