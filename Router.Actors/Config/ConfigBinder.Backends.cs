using System.Collections.Immutable;
using Router.Actors.Config.Hocon;

namespace Router.Actors.Config;

/// <summary>The <c>backends</c> array: one object per backend, usually <c>${backend-defaults} { … }</c>.</summary>
internal static partial class ConfigBinder
{
    private static ImmutableArray<BackendConfig> BindBackends(SettingsReader root, HoconObject tree)
    {
        if (!tree.TryGet(ConfigSchema.Backends, out var value) || value is HoconScalar { Kind: HoconScalarKind.Null })
        {
            return [];
        }

        if (value is not HoconArray array)
        {
            root.Error(ConfigSchema.Backends, $"expected an array of backend objects, got {value.Describe()}", value.Origin, "write backends = [ { id = ..., endpoint = ... } ]");
            return [];
        }

        var inherited = InheritedValues(tree);
        var backends = ImmutableArray.CreateBuilder<BackendConfig>(array.Items.Count);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < array.Items.Count; i++)
        {
            var path = $"{ConfigSchema.Backends}[{i}]";
            if (array.Items[i] is not HoconObject obj)
            {
                root.Errors.Add(path, $"expected a backend object, got {array.Items[i].Describe()}", array.Items[i].Origin, "write { id = ..., endpoint = ... }");
                continue;
            }

            // Keys that came in through ${backend-defaults} are that block's business: it may hold
            // settings some backends do not use, so only keys written in the backend itself must be known.
            var reader = new SettingsReader(obj, path, root.Errors) { Lenient = inherited.Contains, LenientPath = ConfigSchema.BackendDefaults };
            var backend = BindBackend(reader);
            if (backend is null)
            {
                continue;
            }

            if (seen.TryGetValue(backend.Id, out var first))
            {
                obj.TryGet("id", out var idValue);
                root.Errors.Add(path + ".id", $"duplicate backend id \"{backend.Id}\", already used by {ConfigSchema.Backends}[{first}]", idValue.Origin, "give every backend its own id");
                continue;
            }

            seen.Add(backend.Id, i);
            backends.Add(backend);
        }

        return backends.ToImmutable();
    }

    private static BackendConfig? BindBackend(SettingsReader backend)
    {
        backend.RejectUnknown(ConfigSchema.BackendKeys);
        var defaults = new BackendConfig { Id = "", Endpoint = new Uri("http://localhost") };

        var id = backend.OptionalString("id");
        if (id is null)
        {
            backend.Errors.Add(backend.Path, "missing required setting \"id\"", backend.Object.Origin, "add id = \"a-unique-name\"");
        }
        else if (id.Trim().Length == 0 && backend.Object.TryGet("id", out var idValue))
        {
            backend.Error("id", "the backend id is empty", idValue.Origin, "use a short unique name such as ollama-npu");
            id = null;
        }

        var endpoint = backend.Has("endpoint") ? backend.Url("endpoint") : null;
        if (!backend.Has("endpoint"))
        {
            backend.Errors.Add(backend.Path, "missing required setting \"endpoint\"", backend.Object.Origin, "add endpoint = \"http://localhost:11434\"");
        }

        var type = backend.String("type", defaults.Type).ToLowerInvariant();
        if (Array.IndexOf(ConfigSchema.BackendTypes, type) < 0 && backend.Object.TryGet("type", out var typeValue))
        {
            backend.Error("type", $"unknown backend type {typeValue.Describe()}", typeValue.Origin, "valid types: " + string.Join(", ", ConfigSchema.BackendTypes));
        }

        var config = new BackendConfig
        {
            Id = id ?? "",
            Endpoint = endpoint ?? defaults.Endpoint,
            Type = type,
            Name = backend.String("name", id ?? ""),
            Hardware = backend.String("hardware", defaults.Hardware).ToLowerInvariant(),
            Enabled = backend.Bool("enabled", defaults.Enabled),
            PowerWatts = backend.Double("power-watts", defaults.PowerWatts, 0),
            AvgLatencyMs = backend.Double("avg-latency-ms", defaults.AvgLatencyMs, 0),
            Priority = backend.Int("priority", defaults.Priority, 0),
            MaxConcurrent = backend.Int("max-concurrent", defaults.MaxConcurrent, 1, 10_000),
            QueueLimits = BindQueueLimits(backend.Child(ConfigSchema.QueueLimits), defaults.QueueLimits),
            ApiKey = backend.OptionalString("api-key"),
            Timeouts = BindTimeouts(backend.Child(ConfigSchema.Timeouts), defaults.Timeouts),
            Health = BindHealth(backend.Child(ConfigSchema.Health), defaults.Health),
            Sensors = BindSensors(backend.Child(ConfigSchema.Sensors), defaults.Sensors),
        };

        return id is null || endpoint is null ? null : config;
    }

    private static ImmutableArray<int> BindQueueLimits(SettingsReader? section, ImmutableArray<int> defaults)
    {
        if (section is null)
        {
            return defaults;
        }

        section.RejectUnknown(ConfigSchema.QueueLimitKeys);
        var limits = new int[ConfigSchema.QueueLimitKeys.Length];
        for (var i = 0; i < limits.Length; i++)
        {
            limits[i] = section.Int(ConfigSchema.QueueLimitKeys[i], defaults[i], 0, 1_000_000);
        }

        return [.. limits];
    }

    private static BackendTimeouts BindTimeouts(SettingsReader? section, BackendTimeouts defaults)
    {
        if (section is null)
        {
            return defaults;
        }

        section.RejectUnknown(ConfigSchema.TimeoutKeys);
        return defaults with
        {
            Connect = section.Duration("connect", defaults.Connect),
            FirstByte = section.Duration("first-byte", defaults.FirstByte),
            Idle = section.Duration("idle", defaults.Idle),
        };
    }

    private static HealthCheckConfig BindHealth(SettingsReader? section, HealthCheckConfig defaults)
    {
        if (section is null)
        {
            return defaults;
        }

        section.RejectUnknown(ConfigSchema.HealthKeys);
        var health = defaults with
        {
            Interval = section.Duration("interval", defaults.Interval),
            UnhealthyInterval = section.Duration("unhealthy-interval", defaults.UnhealthyInterval),
            Timeout = section.Duration("timeout", defaults.Timeout),
            EjectAfterFailures = section.Int("eject-after-failures", defaults.EjectAfterFailures, 1),
            BaseEjection = section.Duration("base-ejection", defaults.BaseEjection),
            MaxEjection = section.Duration("max-ejection", defaults.MaxEjection),
            EjectionDecay = section.Duration("ejection-decay", defaults.EjectionDecay),
            ModelRefreshInterval = section.Duration("model-refresh-interval", defaults.ModelRefreshInterval),
        };

        if (health.BaseEjection > health.MaxEjection && section.Object.TryGet("base-ejection", out var baseValue))
        {
            section.Error("base-ejection", "is longer than max-ejection", baseValue.Origin, "make base-ejection at most max-ejection");
        }

        return health;
    }

    private static SensorConfig BindSensors(SettingsReader? section, SensorConfig defaults)
    {
        if (section is null)
        {
            return defaults;
        }

        section.RejectUnknown(ConfigSchema.SensorKeys);
        var sensors = defaults with
        {
            Temperature = section.StringList("temperature", defaults.Temperature),
            Power = section.OptionalString("power") ?? defaults.Power,
            HotC = section.Double("hot-c", defaults.HotC, -50, 200),
            LimitC = section.Double("limit-c", defaults.LimitC, -50, 200),
        };

        if (sensors.HotC >= sensors.LimitC && section.Object.TryGet(section.Has("hot-c") ? "hot-c" : "limit-c", out var value))
        {
            section.Error("hot-c", $"hot-c ({sensors.HotC}) must be below limit-c ({sensors.LimitC})", value.Origin, "a device is penalised above hot-c and excluded above limit-c");
        }

        return sensors;
    }

    /// <summary>
    /// Every value under <c>backend-defaults</c>. Objects merge by reference to their values, so a
    /// backend's field is inherited exactly when it is one of these instances.
    /// </summary>
    private static HashSet<HoconValue> InheritedValues(HoconObject tree)
    {
        var values = new HashSet<HoconValue>(ReferenceEqualityComparer.Instance);
        if (tree.TryGet(ConfigSchema.BackendDefaults, out var defaults))
        {
            Collect(defaults);
        }

        return values;

        void Collect(HoconValue value)
        {
            values.Add(value);
            if (value is HoconObject obj)
            {
                foreach (var (_, child) in obj.Fields)
                {
                    Collect(child);
                }
            }
        }
    }
}
