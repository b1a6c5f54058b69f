using System.Globalization;
using Router.Actors.Config.Hocon;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Router.Actors.Config;

/// <summary>
/// Reads the old router's YAML file unchanged and rewrites it as the tree the HOCON binder reads, so
/// both formats share one set of checks, environment overrides and error messages. Line numbers come
/// from YamlDotNet's marks. Sections and keys the new router does not use (auth, cache, thermal,
/// model_capability …) are ignored: old files carry them and must still load.
/// </summary>
internal static class LegacyYamlReader
{
    public static HoconObject Read(string text, string originName, IReadOnlyDictionary<string, string> environment, ConfigErrors errors)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new ConfigException(ConfigErrors.Format(null, "invalid YAML: " + (e.InnerException?.Message ?? e.Message), new ConfigOrigin(originName, (int)e.Start.Line), "check the indentation and quoting around this line"));
        }

        var tree = new HoconObject(new ConfigOrigin(originName, 1));
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" })
        {
            return tree;
        }

        if (Convert(stream.Documents[0].RootNode, originName) is not HoconObject root)
        {
            throw new ConfigException(ConfigErrors.Format(null, "the YAML document must be a mapping of sections (server, router, routing, backends)", Origin(stream.Documents[0].RootNode, originName)));
        }

        var legacy = new SettingsReader(root, "", errors);
        if (legacy.Child("server") is { } server)
        {
            Copy(server, "grpc_port", tree, ConfigSchema.Server, "grpc-port");
            Copy(server, "http_port", tree, ConfigSchema.Server, "http-port");
            Copy(server, "host", tree, ConfigSchema.Server, "host");
        }

        if (legacy.Child("router") is { } router)
        {
            Copy(router, "power_aware", tree, ConfigSchema.Routing, "power-aware");
            CopyAutoOptimize(router, "auto_optimize", tree);
        }

        if (legacy.Child("routing") is { } routing)
        {
            Copy(routing, "power_aware", tree, ConfigSchema.Routing, "power-aware");
            CopyAutoOptimize(routing, "auto_optimize_latency", tree);
        }

        if (legacy.Child("efficiency") is { } efficiency)
        {
            Copy(efficiency, "default_mode", tree, ConfigSchema.Routing, "default-mode");
        }

        if (root.TryGet("backends", out var backendsValue) && backendsValue is not HoconScalar { Kind: HoconScalarKind.Null })
        {
            tree.Fields[ConfigSchema.Backends] = ReadBackends(backendsValue, environment, errors);
        }

        return tree;
    }

    private static HoconValue ReadBackends(HoconValue value, IReadOnlyDictionary<string, string> environment, ConfigErrors errors)
    {
        if (value is not HoconArray legacy)
        {
            errors.Add("backends", $"expected a list of backends, got {value.Describe()}", value.Origin, "write each backend as an item starting with '- id: ...'");
            return new HoconArray(value.Origin);
        }

        var backends = new HoconArray(legacy.Origin);
        for (var i = 0; i < legacy.Items.Count; i++)
        {
            if (legacy.Items[i] is not HoconObject item)
            {
                // Left as is: the binder reports a backend that is not an object, with its line.
                backends.Items.Add(legacy.Items[i]);
                continue;
            }

            var reader = new SettingsReader(item, $"backends[{i}]", errors);
            var backend = new HoconObject(item.Origin);
            foreach (var key in (ReadOnlySpan<string>)["id", "type", "name", "hardware", "enabled", "endpoint"])
            {
                if (item.TryGet(key, out var field))
                {
                    backend.Fields[key] = field;
                }
            }

            if (reader.Child("characteristics") is { } characteristics)
            {
                Copy(characteristics, "power_watts", backend, "power-watts");
                Copy(characteristics, "avg_latency_ms", backend, "avg-latency-ms");
                Copy(characteristics, "priority", backend, "priority");
            }

            if (item.TryGet("api_key", out var apiKey))
            {
                backend.Fields["api-key"] = apiKey;
            }
            else if (item.TryGet("api_key_env", out var apiKeyEnv) && apiKeyEnv is HoconScalar variable
                && environment.TryGetValue(variable.Text, out var key))
            {
                backend.Fields["api-key"] = HoconScalar.String(ConfigOrigin.Environment(variable.Text), key);
            }

            backends.Items.Add(backend);
        }

        return backends;
    }

    private static void Copy(SettingsReader from, string legacyKey, HoconObject tree, string section, string key)
    {
        if (from.Object.TryGet(legacyKey, out var value))
        {
            if (!tree.TryGet(section, out var target))
            {
                target = new HoconObject(value.Origin);
                tree.Fields[section] = target;
            }

            ((HoconObject)target).Fields[key] = value;
        }
    }

    private static void Copy(SettingsReader from, string legacyKey, HoconObject target, string key)
    {
        if (from.Object.TryGet(legacyKey, out var value))
        {
            target.Fields[key] = value;
        }
    }

    /// <summary><c>router.auto_optimize</c> and <c>routing.auto_optimize_latency</c> both mean "start in Auto"; either being true is enough.</summary>
    private static void CopyAutoOptimize(SettingsReader from, string legacyKey, HoconObject tree)
    {
        if (tree.TryGet(ConfigSchema.Routing, out var routing) && ((HoconObject)routing).TryGet("auto-optimize", out var existing)
            && existing is HoconScalar { Kind: HoconScalarKind.Boolean, Text: "true" })
        {
            return;
        }

        Copy(from, legacyKey, tree, ConfigSchema.Routing, "auto-optimize");
    }

    private static ConfigOrigin Origin(YamlNode node, string originName) => new(originName, (int)node.Start.Line);

    private static HoconValue Convert(YamlNode node, string originName)
    {
        var origin = Origin(node, originName);
        switch (node)
        {
            case YamlMappingNode mapping:
                var obj = new HoconObject(origin);
                foreach (var (key, value) in mapping.Children)
                {
                    obj.Fields[key is YamlScalarNode scalarKey ? scalarKey.Value ?? "" : key.ToString()] = Convert(value, originName);
                }

                return obj;
            case YamlSequenceNode sequence:
                var array = new HoconArray(origin);
                foreach (var item in sequence.Children)
                {
                    array.Items.Add(Convert(item, originName));
                }

                return array;
            case YamlScalarNode scalar:
                return Scalar(scalar, origin);
            default:
                return HoconScalar.String(origin, node.ToString());
        }
    }

    /// <summary>Plain scalars are typed as YAML 1.2's core schema types them; quoted ones are strings.</summary>
    private static HoconScalar Scalar(YamlScalarNode scalar, ConfigOrigin origin)
    {
        var text = scalar.Value ?? "";
        if (scalar.Style is not (ScalarStyle.Plain or ScalarStyle.Any))
        {
            return HoconScalar.String(origin, text);
        }

        return text switch
        {
            "" or "~" or "null" or "Null" or "NULL" => new HoconScalar(origin, HoconScalarKind.Null, "null"),
            "true" or "True" or "TRUE" => new HoconScalar(origin, HoconScalarKind.Boolean, "true"),
            "false" or "False" or "FALSE" => new HoconScalar(origin, HoconScalarKind.Boolean, "false"),
            _ when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _) => new HoconScalar(origin, HoconScalarKind.Number, text),
            _ => HoconScalar.String(origin, text),
        };
    }
}
