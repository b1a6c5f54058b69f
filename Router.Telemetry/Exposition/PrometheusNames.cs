using System.Globalization;
using System.Text;

namespace Router.Telemetry.Exposition;

/// <summary>
/// Maps OpenTelemetry-style instrument names and UCUM units to Prometheus names: invalid characters
/// become <c>_</c> (runs collapsed), the unit is spelt out as a suffix (<c>s</c> → <c>_seconds</c>,
/// <c>{token}/s</c> → <c>_per_second</c>, annotations in braces dropped), counters end in <c>_total</c>.
/// </summary>
internal static class PrometheusNames
{
    public const string TotalSuffix = "_total";

    /// <summary>The Prometheus name of an instrument.</summary>
    public static string MetricName(string instrumentName, string? unit, bool isCounter)
    {
        var name = Sanitize(instrumentName, allowColon: true);
        var suffix = UnitSuffix(unit);
        if (suffix.Length > 0 && !name.EndsWith("_" + suffix, StringComparison.Ordinal))
        {
            name = $"{name}_{suffix}";
        }

        if (isCounter && !name.EndsWith(TotalSuffix, StringComparison.Ordinal))
        {
            name += TotalSuffix;
        }

        return name;
    }

    /// <summary>A label name: <c>[a-zA-Z_][a-zA-Z0-9_]*</c>.</summary>
    public static string LabelName(string tagKey) => Sanitize(tagKey, allowColon: false);

    /// <summary>The name part a unit contributes, or empty for dimensionless and annotation-only units.</summary>
    public static string UnitSuffix(string? unit)
    {
        if (string.IsNullOrEmpty(unit))
        {
            return "";
        }

        var stripped = StripAnnotations(unit);
        var slash = stripped.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
        {
            return Unit(stripped);
        }

        var numerator = Unit(stripped[..slash]);
        var denominator = PerUnit(stripped[(slash + 1)..]);
        if (denominator.Length == 0)
        {
            return numerator;
        }

        return numerator.Length == 0 ? $"per_{denominator}" : $"{numerator}_per_{denominator}";
    }

    private static string Unit(string unit) => unit switch
    {
        "" or "1" => "",
        "s" => "seconds",
        "ms" => "milliseconds",
        "us" => "microseconds",
        "ns" => "nanoseconds",
        "min" => "minutes",
        "h" => "hours",
        "d" => "days",
        "By" => "bytes",
        "KiBy" => "kibibytes",
        "MiBy" => "mebibytes",
        "W" => "watts",
        "Wh" => "watthours",
        "kWh" => "kilowatthours",
        "J" => "joules",
        "V" => "volts",
        "A" => "amperes",
        "Hz" => "hertz",
        "Cel" => "celsius",
        "%" => "percent",
        _ => Sanitize(unit.ToLowerInvariant(), allowColon: false).Trim('_'),
    };

    private static string PerUnit(string unit) => unit switch
    {
        "" or "1" => "",
        "s" => "second",
        "min" => "minute",
        "h" => "hour",
        "d" => "day",
        _ => Unit(unit),
    };

    private static string StripAnnotations(string unit)
    {
        if (!unit.Contains('{', StringComparison.Ordinal))
        {
            return unit;
        }

        var builder = new StringBuilder(unit.Length);
        var depth = 0;
        foreach (var c in unit)
        {
            if (c == '{')
            {
                depth++;
            }
            else if (c == '}')
            {
                depth = Math.Max(0, depth - 1);
            }
            else if (depth == 0)
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    private static string Sanitize(string name, bool allowColon)
    {
        var builder = new StringBuilder(name.Length + 1);
        foreach (var c in name)
        {
            var valid = char.IsAsciiLetter(c) || char.IsAsciiDigit(c) || c == '_' || (allowColon && c == ':');
            var next = valid ? c : '_';
            if (next == '_' && builder.Length > 0 && builder[^1] == '_')
            {
                continue;
            }

            builder.Append(next);
        }

        if (builder.Length == 0 || char.IsAsciiDigit(builder[0]))
        {
            builder.Insert(0, '_');
        }

        return builder.ToString();
    }

    /// <summary>The text of a tag value: invariant culture for numbers, lowercase booleans, empty for null.</summary>
    public static string LabelValue(object? value) => value switch
    {
        null => "",
        string s => s,
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
