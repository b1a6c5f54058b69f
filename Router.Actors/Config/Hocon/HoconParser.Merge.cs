namespace Router.Actors.Config.Hocon;

/// <summary>Spec sections "Duplicate keys and object merging" and "Paths as keys".</summary>
internal sealed partial class HoconParser
{
    /// <summary><c>a.b.c = v</c> is <c>a { b { c = v } }</c>.</summary>
    private static void Assign(HoconObject obj, List<string> key, HoconValue value)
    {
        for (var i = key.Count - 1; i > 0; i--)
        {
            var wrapper = new HoconObject(value.Origin);
            wrapper.Fields[key[i]] = value;
            value = wrapper;
        }

        AssignField(obj, key[0], value);
    }

    /// <summary>
    /// A repeated key: two objects merge (fields of the later one win); otherwise the later value
    /// wins. A later value that is not yet resolved remembers the earlier one as its
    /// <see cref="HoconUnresolved.Below"/>, for self-references and undefined <c>${?x}</c>.
    /// </summary>
    internal static void AssignField(HoconObject obj, string key, HoconValue value)
    {
        if (!obj.TryGet(key, out var existing))
        {
            obj.Fields[key] = value;
            return;
        }

        switch (value)
        {
            case HoconObject above when existing is HoconObject below:
                foreach (var (field, fieldValue) in above.Fields)
                {
                    AssignField(below, field, fieldValue);
                }

                break;
            case HoconObject above when existing is HoconUnresolved:
                obj.Fields[key] = new HoconDelayedMerge(above.Origin, above) { Below = existing };
                break;
            case HoconUnresolved unresolved:
                SetDeepestBelow(unresolved, existing);
                obj.Fields[key] = unresolved;
                break;
            default:
                obj.Fields[key] = value;
                break;
        }
    }

    /// <summary>
    /// A value brought in by an include may already sit on an earlier value from its own file; the
    /// earlier value of this file goes under the bottom of that chain.
    /// </summary>
    private static void SetDeepestBelow(HoconUnresolved value, HoconValue existing)
    {
        while (value.Below is HoconUnresolved next)
        {
            value = next;
        }

        value.Below ??= existing;
    }
}
