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
        return new RouterConfig
        {
            Server = BindServer(reader.Child(ConfigSchema.Server), defaults.Server),
            Routing = BindRouting(reader.Child(ConfigSchema.Routing), defaults.Routing),
            Telemetry = BindTelemetry(reader.Child(ConfigSchema.Telemetry), defaults.Telemetry),
            DBus = BindDBus(reader.Child(ConfigSchema.DBus), defaults.DBus),
            Desktop = BindDesktop(reader.Child(ConfigSchema.Desktop), defaults.Desktop),
            Backends = BindBackends(reader, root),
        };
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
            if (EfficiencyModeNames.TryParse(modeText, out var parsed))
            {
                mode = parsed;
            }
            else
            {
                section.Error("default-mode", $"unknown mode {modeValue.Describe()}", modeValue.Origin, "valid modes: " + EfficiencyModeNames.ValidList);
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
