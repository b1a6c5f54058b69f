using System.Collections.Immutable;
using System.Globalization;
using Router.Actors.Config.Hocon;

namespace Router.Actors.Config;

/// <summary>
/// Reads typed settings from one object of the resolved tree. A missing key yields the fallback; a
/// wrong one records an error naming the path and origin and yields the fallback, so binding goes
/// on and every problem is reported in one run. Strings that spell a number or boolean are accepted
/// (environment overrides are always strings).
/// </summary>
internal sealed class SettingsReader(HoconObject obj, string path, ConfigErrors errors)
{
    public HoconObject Object { get; } = obj;

    public string Path { get; } = path;

    public ConfigErrors Errors { get; } = errors;

    /// <summary>Values whose unknown keys are excused here and in every child object.</summary>
    public Func<HoconValue, bool>? Lenient { get; init; }

    /// <summary>
    /// Where excused values were written (<c>backend-defaults</c>): an error in one of them names
    /// that path, so it reads as one error and not once per backend that inherited it.
    /// </summary>
    public string? LenientPath { get; init; }

    public string PathOf(string key) => Path.Length == 0 ? key : Path + "." + key;

    public bool Has(string key) => Object.TryGet(key, out var value) && !IsNull(value);

    public void Error(string key, string message, ConfigOrigin origin, string? hint = null)
    {
        var inherited = LenientPath is not null && Lenient is not null && Object.TryGet(key, out var value) && Lenient(value);
        Errors.Add(inherited ? LenientPath + "." + key : PathOf(key), message, origin, hint);
    }

    public SettingsReader? Child(string key)
    {
        if (!Object.TryGet(key, out var value) || IsNull(value))
        {
            return null;
        }

        if (value is HoconObject child)
        {
            return new SettingsReader(child, PathOf(key), Errors)
            {
                Lenient = Lenient,
                LenientPath = LenientPath is null ? null : LenientPath + "." + key,
            };
        }

        Error(key, $"expected an object, got {value.Describe()}", value.Origin, $"write {key} {{ ... }}");
        return null;
    }

    public string String(string key, string fallback) => OptionalString(key) ?? fallback;

    public string? OptionalString(string key)
    {
        if (!Object.TryGet(key, out var value) || IsNull(value))
        {
            return null;
        }

        if (value is HoconScalar scalar)
        {
            return scalar.Text;
        }

        Error(key, $"expected a string, got {value.Describe()}", value.Origin, "put the text in double quotes");
        return null;
    }

    public bool Bool(string key, bool fallback)
    {
        if (!TryScalar(key, out var scalar))
        {
            return fallback;
        }

        switch (scalar.Text.ToLowerInvariant())
        {
            case "true" or "yes" or "on":
                return true;
            case "false" or "no" or "off":
                return false;
            default:
                Error(key, $"expected true or false, got {scalar.Describe()}", scalar.Origin);
                return fallback;
        }
    }

    public double Double(string key, double fallback, double min, double max = double.MaxValue)
    {
        if (!TryScalar(key, out var scalar))
        {
            return fallback;
        }

        if (!scalar.TryGetDouble(out var value) || scalar.Kind == HoconScalarKind.Boolean)
        {
            Error(key, $"expected a number, got {scalar.Describe()}", scalar.Origin);
            return fallback;
        }

        if (value < min || value > max)
        {
            Error(key, $"{scalar.Text} is out of range", scalar.Origin, RangeHint(min, max));
            return fallback;
        }

        return value;
    }

    public int Int(string key, int fallback, int min, int max = int.MaxValue, string? hint = null)
    {
        if (!TryScalar(key, out var scalar))
        {
            return fallback;
        }

        if (!long.TryParse(scalar.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            Error(key, $"expected a whole number, got {scalar.Describe()}", scalar.Origin);
            return fallback;
        }

        if (value < min || value > max)
        {
            Error(key, $"{scalar.Text} is out of range", scalar.Origin, hint ?? RangeHint(min, max));
            return fallback;
        }

        return (int)value;
    }

    public TimeSpan Duration(string key, TimeSpan fallback)
    {
        if (!TryScalar(key, out var scalar))
        {
            return fallback;
        }

        if (scalar.Kind == HoconScalarKind.Boolean || !ConfigUnits.TryParseDuration(scalar.Text, out var value))
        {
            Error(key, $"expected {ConfigUnits.DurationExample}, got {scalar.Describe()}", scalar.Origin);
            return fallback;
        }

        if (value <= TimeSpan.Zero)
        {
            Error(key, $"{scalar.Text} is not a positive duration", scalar.Origin, "use a duration above zero, e.g. 5s");
            return fallback;
        }

        return value;
    }

    public long Size(string key, long fallback, long min, long max)
    {
        if (!TryScalar(key, out var scalar))
        {
            return fallback;
        }

        if (scalar.Kind == HoconScalarKind.Boolean || !ConfigUnits.TryParseSize(scalar.Text, out var value))
        {
            Error(key, $"expected {ConfigUnits.SizeExample}, got {scalar.Describe()}", scalar.Origin);
            return fallback;
        }

        if (value < min || value > max)
        {
            Error(key, $"{scalar.Text} is out of range", scalar.Origin, $"use a size from {min} to {max} bytes");
            return fallback;
        }

        return value;
    }

    /// <summary>An absolute http or https URL.</summary>
    public Uri? Url(string key)
    {
        if (!TryScalar(key, out var scalar))
        {
            return null;
        }

        if (Uri.TryCreate(scalar.Text, UriKind.Absolute, out var uri)
            && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            && uri.Host.Length > 0)
        {
            return uri;
        }

        Error(key, $"expected an absolute http:// or https:// URL, got {scalar.Describe()}", scalar.Origin, "write it like \"http://localhost:11434\"");
        return null;
    }

    /// <summary>A list of strings; a single string is split at commas (how an environment variable spells a list).</summary>
    public ImmutableArray<string> StringList(string key, ImmutableArray<string> fallback)
    {
        if (!Object.TryGet(key, out var value) || IsNull(value))
        {
            return fallback;
        }

        switch (value)
        {
            case HoconScalar scalar:
                return [.. scalar.Text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
            case HoconArray array:
                var items = ImmutableArray.CreateBuilder<string>(array.Items.Count);
                for (var i = 0; i < array.Items.Count; i++)
                {
                    if (array.Items[i] is HoconScalar { Kind: not HoconScalarKind.Null } item)
                    {
                        items.Add(item.Text);
                    }
                    else
                    {
                        Errors.Add($"{PathOf(key)}[{i}]", $"expected a string, got {array.Items[i].Describe()}", array.Items[i].Origin);
                    }
                }

                return items.ToImmutable();
            default:
                Error(key, $"expected a list of strings, got {value.Describe()}", value.Origin, $"write {key} = [a, b]");
                return fallback;
        }
    }

    /// <summary>Reports keys this object does not know, except values <see cref="Lenient"/> excuses.</summary>
    public void RejectUnknown(string[] known)
    {
        foreach (var (key, value) in Object.Fields)
        {
            if (Array.IndexOf(known, key) >= 0 || (Lenient?.Invoke(value) ?? false))
            {
                continue;
            }

            var suggestion = Closest(key, known);
            Error(key, "unknown setting", value.Origin, suggestion is null
                ? "valid settings here: " + string.Join(", ", known)
                : $"did you mean {suggestion}? valid settings here: " + string.Join(", ", known));
        }
    }

    private bool TryScalar(string key, out HoconScalar scalar)
    {
        scalar = null!;
        if (!Object.TryGet(key, out var value) || IsNull(value))
        {
            return false;
        }

        if (value is HoconScalar s)
        {
            scalar = s;
            return true;
        }

        Error(key, $"expected a single value, got {value.Describe()}", value.Origin);
        return false;
    }

    private static bool IsNull(HoconValue value) => value is HoconScalar { Kind: HoconScalarKind.Null };

    private static string RangeHint(double min, double max) => max >= int.MaxValue
        ? $"use a value of at least {min.ToString(CultureInfo.InvariantCulture)}"
        : $"use a value from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The known key nearest to a typo, if it is near enough to be a likely slip.</summary>
    private static string? Closest(string key, string[] known)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in known)
        {
            var distance = Distance(key, candidate);
            if (distance < bestDistance)
            {
                bestDistance = distance;
                best = candidate;
            }
        }

        return bestDistance <= Math.Max(1, key.Length / 3) ? best : null;
    }

    /// <summary>Levenshtein distance over two rows.</summary>
    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
