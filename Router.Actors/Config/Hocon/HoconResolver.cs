using System.Text;

namespace Router.Actors.Config.Hocon;

/// <summary>
/// Replaces substitutions, concatenations and delayed merges with plain values, in place (spec
/// sections "Substitutions", "Self-Referential Substitutions", "Value concatenation").
/// A substitution looks in the configuration first, then in the environment. Undefined required
/// substitutions are collected as errors; a cycle stops resolution at once.
/// </summary>
internal sealed class HoconResolver
{
    private readonly HoconObject _root;
    private readonly IReadOnlyDictionary<string, string> _environment;
    private readonly ConfigErrors _errors;
    /// <summary>Nodes being resolved; meeting one again is a self-reference or a cycle.</summary>
    private readonly HashSet<HoconUnresolved> _inProgress = new(ReferenceEqualityComparer.Instance);
    /// <summary>Substitutions being resolved, outermost first, to describe a cycle.</summary>
    private readonly List<HoconSubstitution> _chain = [];

    private HoconResolver(HoconObject root, IReadOnlyDictionary<string, string> environment, ConfigErrors errors)
    {
        _root = root;
        _environment = environment;
        _errors = errors;
    }

    public static void Resolve(HoconObject root, IReadOnlyDictionary<string, string> environment, ConfigErrors errors) =>
        new HoconResolver(root, environment, errors).ResolveObject(root);

    private HoconValue? ResolveValue(HoconValue value) => value switch
    {
        HoconObject obj => ResolveObject(obj),
        HoconArray array => ResolveArray(array),
        HoconUnresolved unresolved => ResolveUnresolved(unresolved, optionalReference: false),
        _ => value,
    };

    private HoconObject ResolveObject(HoconObject obj)
    {
        // By index: a lookup may resolve (replace) a later sibling in place while this loop runs.
        for (var i = 0; i < obj.Fields.Count; i++)
        {
            var value = obj.Fields.GetAt(i).Value;
            if (value is HoconScalar)
            {
                continue;
            }

            var resolved = ResolveValue(value);
            if (resolved is null)
            {
                // An undefined ${?x} with nothing below it: the field is not set at all.
                obj.Fields.RemoveAt(i);
                i--;
            }
            else if (!ReferenceEquals(resolved, value))
            {
                obj.Fields.SetAt(i, resolved);
            }
        }

        return obj;
    }

    private HoconArray ResolveArray(HoconArray array)
    {
        for (var i = 0; i < array.Items.Count; i++)
        {
            var resolved = ResolveValue(array.Items[i]);
            if (resolved is null)
            {
                array.Items.RemoveAt(i);
                i--;
            }
            else
            {
                array.Items[i] = resolved;
            }
        }

        return array;
    }

    /// <returns>The value, or null when it is undefined (an optional substitution with nothing to fall back on).</returns>
    private HoconValue? ResolveUnresolved(HoconUnresolved node, bool optionalReference)
    {
        if (_inProgress.Contains(node))
        {
            // Spec, "Self-Referential Substitutions": a field that refers to itself sees the value it replaced.
            if (node.Below is HoconUnresolved below)
            {
                return ResolveUnresolved(below, optionalReference);
            }

            if (node.Below is not null)
            {
                return ResolveValue(node.Below);
            }

            if (optionalReference)
            {
                return null;
            }

            _errors.Add(null, $"substitution cycle: {Describe(_chain)} refers back to itself", _chain.Count > 0 ? _chain[^1].Origin : node.Origin, "make one of these settings a plain value");
            throw _errors.ToException();
        }

        _inProgress.Add(node);
        try
        {
            return node switch
            {
                HoconSubstitution substitution => ResolveSubstitution(substitution),
                HoconConcat concat => ResolveConcat(concat),
                HoconDelayedMerge merge => ResolveMerge(merge),
                _ => throw new InvalidOperationException("unknown unresolved node " + node.GetType().Name),
            };
        }
        finally
        {
            _inProgress.Remove(node);
        }
    }

    private HoconValue? ResolveSubstitution(HoconSubstitution substitution)
    {
        _chain.Add(substitution);
        try
        {
            // Spec, "Include semantics: substitution": in an included file, the path is first tried
            // relative to where the file was included, then from the root.
            var found = substitution.IncludedPath is { } included ? Lookup(included, substitution.Optional) : null;
            found ??= Lookup(substitution.Path, substitution.Optional);
            if (found is null && _environment.TryGetValue(string.Join('.', substitution.Path), out var variable))
            {
                found = HoconScalar.String(ConfigOrigin.Environment(string.Join('.', substitution.Path)), variable);
            }

            if (found is not null)
            {
                return found;
            }

            if (substitution.Optional)
            {
                return substitution.Below is null ? null : ResolveValue(substitution.Below);
            }

            var path = HoconPath.Render(substitution.Path);
            _errors.Add(null, $"could not resolve substitution {substitution}: no setting {path} and no environment variable {path}", substitution.Origin, $"define {path}, or write ${{?{path}}} if it may be absent");
            return null;
        }
        finally
        {
            _chain.RemoveAt(_chain.Count - 1);
        }
    }

    /// <summary>Walks from the root, resolving what lies on the way, and returns the fully resolved value.</summary>
    private HoconValue? Lookup(IReadOnlyList<string> path, bool optional)
    {
        HoconValue current = _root;
        foreach (var key in path)
        {
            if (current is not HoconObject obj || !obj.TryGet(key, out var child))
            {
                return null;
            }

            if (child is HoconUnresolved unresolved)
            {
                var selfReference = _inProgress.Contains(unresolved);
                var resolved = ResolveUnresolved(unresolved, optional);
                if (!selfReference && obj.TryGet(key, out var still) && ReferenceEquals(still, unresolved))
                {
                    // Store the result so every later reader sees the same value.
                    if (resolved is null)
                    {
                        obj.Fields.Remove(key);
                    }
                    else
                    {
                        obj.Fields[key] = resolved;
                    }
                }

                if (resolved is null)
                {
                    return null;
                }

                child = resolved;
            }

            current = child;
        }

        return ResolveValue(current);
    }

    /// <summary>Spec, "Value concatenation": strings join, arrays append, objects merge; nothing else mixes.</summary>
    private HoconValue? ResolveConcat(HoconConcat concat)
    {
        var resolved = new List<HoconValue>(concat.Parts.Count);
        HoconValue? first = null;
        foreach (var part in concat.Parts)
        {
            if (part is HoconSpacing)
            {
                resolved.Add(part);
                continue;
            }

            var value = ResolveValue(part);
            if (value is null)
            {
                continue;
            }

            if (first is not null && Kind(first) != Kind(value))
            {
                _errors.Add(null, $"cannot concatenate {Kind(first)} and {Kind(value)}", part.Origin, "values on one line join only when all are strings, all arrays or all objects; put strings in quotes");
                return null;
            }

            first ??= value;
            resolved.Add(value);
        }

        switch (first)
        {
            case null:
                return concat.Below is null ? null : ResolveValue(concat.Below);
            case HoconObject:
                HoconObject? merged = null;
                foreach (var value in resolved)
                {
                    if (value is HoconObject obj)
                    {
                        merged = merged is null ? obj : Merge(merged, obj);
                    }
                }

                return merged;
            case HoconArray:
                var array = new HoconArray(first.Origin);
                foreach (var value in resolved)
                {
                    if (value is HoconArray items)
                    {
                        array.Items.AddRange(items.Items);
                    }
                }

                return array;
            default:
                var text = new StringBuilder();
                foreach (var value in resolved)
                {
                    text.Append(value is HoconScalar scalar ? scalar.Text : ((HoconSpacing)value).Text);
                }

                return HoconScalar.String(first.Origin, text.ToString());
        }
    }

    private HoconValue ResolveMerge(HoconDelayedMerge merge)
    {
        var below = merge.Below is null ? null : ResolveValue(merge.Below);
        var above = ResolveObject(merge.Above);
        return below is HoconObject belowObject ? Merge(belowObject, above) : above;
    }

    /// <summary>
    /// Merges two resolved objects into a new one; neither input changes, since a resolved object
    /// may be shared (every <c>${backend-defaults}</c> returns the same one).
    /// </summary>
    internal static HoconObject Merge(HoconObject below, HoconObject above)
    {
        var merged = new HoconObject(above.Origin);
        foreach (var (key, value) in below.Fields)
        {
            merged.Fields[key] = value;
        }

        foreach (var (key, value) in above.Fields)
        {
            merged.Fields[key] = value is HoconObject aboveChild && merged.TryGet(key, out var existing) && existing is HoconObject belowChild
                ? Merge(belowChild, aboveChild)
                : value;
        }

        return merged;
    }

    private static string Kind(HoconValue value) => value switch
    {
        HoconObject => "an object",
        HoconArray => "an array",
        _ => "a string",
    };

    private static string Describe(List<HoconSubstitution> chain)
    {
        var text = new StringBuilder();
        foreach (var substitution in chain)
        {
            if (text.Length > 0)
            {
                text.Append(" -> ");
            }

            text.Append(substitution);
        }

        return text.ToString();
    }
}
