using System.Text;
using Router.Actors.Config.Hocon;

namespace Router.Actors.Config;

/// <summary>
/// <c>OLLAMA_PROXY_&lt;PATH&gt;</c> overrides one setting: the path upper-cased with dots and dashes as
/// underscores (<c>OLLAMA_PROXY_SERVER_HTTP_PORT</c>). A backend's setting is addressed by its id:
/// <c>OLLAMA_PROXY_BACKENDS_OLLAMA_NPU_ENDPOINT</c>. Applied to the resolved tree, so an override
/// beats the file, and the value keeps the variable as its origin.
/// </summary>
internal static class EnvironmentOverrides
{
    public const string Prefix = "OLLAMA_PROXY_";
    private const string BackendsPrefix = Prefix + "BACKENDS_";

    public static void Apply(HoconObject root, IReadOnlyDictionary<string, string> environment, ConfigErrors errors)
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        ApplySection(root, ConfigSchema.Server, ConfigSchema.ServerKeys, environment, used);
        ApplySection(root, ConfigSchema.Routing, [.. ConfigSchema.RoutingLeafPaths()], environment, used);
        ApplySection(root, ConfigSchema.Telemetry, ConfigSchema.TelemetryKeys, environment, used);
        ApplySection(root, ConfigSchema.DBus, ConfigSchema.DBusKeys, environment, used);
        ApplySection(root, ConfigSchema.Desktop, ConfigSchema.DesktopKeys, environment, used);
        ApplySection(root, ConfigSchema.Cluster, [.. ConfigSchema.ClusterLeafPaths()], environment, used);
        var ids = ApplyBackends(root, environment, used);

        // A variable aimed at a backend that names none is a typo worth stopping for; other
        // OLLAMA_PROXY_ variables may belong to the file's own ${?…} substitutions.
        foreach (var (name, _) in environment)
        {
            if (name.StartsWith(BackendsPrefix, StringComparison.Ordinal) && !used.Contains(name))
            {
                errors.Add(name, "names no backend setting", ConfigOrigin.Environment(name),
                    $"use {BackendsPrefix}<ID>_<SETTING> with <ID> one of: {(ids.Count == 0 ? "(no backends)" : string.Join(", ", ids))}");
            }
        }
    }

    public static string VariableFor(string path) => Prefix + Mangle(path);

    /// <summary>Upper case, with '.' and '-' as '_'.</summary>
    public static string Mangle(string path)
    {
        var name = new StringBuilder(path.Length);
        foreach (var c in path)
        {
            name.Append(c is '.' or '-' ? '_' : char.ToUpperInvariant(c));
        }

        return name.ToString();
    }

    private static void ApplySection(HoconObject root, string section, string[] keys, IReadOnlyDictionary<string, string> environment, HashSet<string> used)
    {
        foreach (var key in keys)
        {
            var name = VariableFor(section + "." + key);
            if (environment.TryGetValue(name, out var value))
            {
                used.Add(name);
                root.Fields[section] = With(root.TryGet(section, out var existing) ? existing as HoconObject : null, key.Split('.'), Override(name, value));
            }
        }
    }

    private static List<string> ApplyBackends(HoconObject root, IReadOnlyDictionary<string, string> environment, HashSet<string> used)
    {
        var ids = new List<string>();
        if (!root.TryGet(ConfigSchema.Backends, out var value) || value is not HoconArray backends)
        {
            return ids;
        }

        var leaves = ConfigSchema.BackendLeafPaths().Where(static p => p != "id").ToArray();
        for (var i = 0; i < backends.Items.Count; i++)
        {
            if (backends.Items[i] is not HoconObject backend
                || !backend.TryGet("id", out var idValue) || idValue is not HoconScalar { Kind: not HoconScalarKind.Null } id)
            {
                continue;
            }

            var prefix = BackendsPrefix + Mangle(id.Text) + "_";
            ids.Add(Mangle(id.Text));
            foreach (var leaf in leaves)
            {
                var name = prefix + Mangle(leaf);
                if (environment.TryGetValue(name, out var text))
                {
                    used.Add(name);
                    backend = With(backend, leaf.Split('.'), Override(name, text));
                }
            }

            backends.Items[i] = backend;
        }

        return ids;
    }

    private static HoconScalar Override(string name, string value) => HoconScalar.String(ConfigOrigin.Environment(name), value);

    /// <summary>
    /// A copy of <paramref name="obj"/> with the value at <paramref name="path"/> set. Copies instead of
    /// changing, because resolved objects are shared (each backend merged from backend-defaults).
    /// </summary>
    private static HoconObject With(HoconObject? obj, ReadOnlySpan<string> path, HoconValue value)
    {
        var copy = new HoconObject(obj?.Origin ?? value.Origin);
        if (obj is not null)
        {
            foreach (var (key, existing) in obj.Fields)
            {
                copy.Fields[key] = existing;
            }
        }

        copy.Fields[path[0]] = path.Length == 1
            ? value
            : With(copy.TryGet(path[0], out var child) ? child as HoconObject : null, path[1..], value);
        return copy;
    }
}
