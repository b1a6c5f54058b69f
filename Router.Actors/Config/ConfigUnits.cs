using System.Globalization;

namespace Router.Actors.Config;

/// <summary>
/// Durations and sizes with units (spec sections "Duration format" and "Size in bytes format").
/// A bare number is milliseconds or bytes. Single-letter size units are powers of two
/// (<c>512k</c> = 512 KiB), as the spec says; <c>KB</c>, <c>MB</c> … are powers of ten.
/// </summary>
internal static class ConfigUnits
{
    private static readonly Dictionary<string, double> DurationUnits = new(StringComparer.Ordinal)
    {
        ["ns"] = 1e-6, ["nano"] = 1e-6, ["nanos"] = 1e-6, ["nanosecond"] = 1e-6, ["nanoseconds"] = 1e-6,
        ["us"] = 1e-3, ["micro"] = 1e-3, ["micros"] = 1e-3, ["microsecond"] = 1e-3, ["microseconds"] = 1e-3,
        ["ms"] = 1, ["milli"] = 1, ["millis"] = 1, ["millisecond"] = 1, ["milliseconds"] = 1,
        ["s"] = 1000, ["second"] = 1000, ["seconds"] = 1000,
        ["m"] = 60_000, ["minute"] = 60_000, ["minutes"] = 60_000,
        ["h"] = 3_600_000, ["hour"] = 3_600_000, ["hours"] = 3_600_000,
        ["d"] = 86_400_000, ["day"] = 86_400_000, ["days"] = 86_400_000,
    };

    private static readonly Dictionary<string, double> SizeUnits = BuildSizeUnits();

    public const string DurationExample = "a duration such as 5s, 100ms, 2m, 1h or 30 seconds";

    public const string SizeExample = "a size such as 10MiB, 4MB, 512k or a number of bytes";

    public static bool TryParseDuration(string text, out TimeSpan duration)
    {
        duration = default;
        if (!TrySplit(text, out var number, out var unit))
        {
            return false;
        }

        double millisPerUnit = 1;
        if (unit.Length > 0 && !DurationUnits.TryGetValue(unit, out millisPerUnit))
        {
            return false;
        }

        var millis = number * millisPerUnit;
        if (!double.IsFinite(millis) || Math.Abs(millis) > TimeSpan.MaxValue.TotalMilliseconds)
        {
            return false;
        }

        duration = TimeSpan.FromTicks((long)Math.Round(millis * TimeSpan.TicksPerMillisecond));
        return true;
    }

    public static bool TryParseSize(string text, out long bytes)
    {
        bytes = 0;
        if (!TrySplit(text, out var number, out var unit))
        {
            return false;
        }

        double bytesPerUnit = 1;
        if (unit.Length > 0 && !SizeUnits.TryGetValue(unit, out bytesPerUnit))
        {
            return false;
        }

        var value = Math.Round(number * bytesPerUnit);
        if (!double.IsFinite(value) || value > long.MaxValue || value < long.MinValue)
        {
            return false;
        }

        bytes = (long)value;
        return true;
    }

    /// <summary>Splits <c>10 MiB</c> into 10 and <c>MiB</c>; the unit may be empty.</summary>
    private static bool TrySplit(string text, out double number, out string unit)
    {
        text = text.Trim();
        var end = 0;
        // No exponents: "5e" would be ambiguous with a unit, and nobody writes 1e3ms.
        while (end < text.Length && (char.IsAsciiDigit(text[end]) || text[end] is '.' or '-' or '+'))
        {
            end++;
        }

        unit = text[end..].Trim();
        return double.TryParse(text.AsSpan(0, end), NumberStyles.Float, CultureInfo.InvariantCulture, out number)
            && double.IsFinite(number);
    }

    private static Dictionary<string, double> BuildSizeUnits()
    {
        var units = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["B"] = 1, ["b"] = 1, ["byte"] = 1, ["bytes"] = 1,
        };

        ReadOnlySpan<(string Short, string Si, string Binary)> prefixes =
        [
            ("K", "kilo", "kibi"), ("M", "mega", "mebi"), ("G", "giga", "gibi"), ("T", "tera", "tebi"),
        ];
        for (var i = 0; i < prefixes.Length; i++)
        {
            var (letter, si, binary) = prefixes[i];
            var power = i + 1;
            var powerOfTen = Math.Pow(1000, power);
            var powerOfTwo = Math.Pow(1024, power);
            var lower = letter.ToLowerInvariant();
            units[letter] = powerOfTwo;
            units[lower] = powerOfTwo;
            units[letter + "i"] = powerOfTwo;
            units[lower + "i"] = powerOfTwo;
            units[letter + "iB"] = powerOfTwo;
            units[letter + "B"] = powerOfTen;
            units[si + "byte"] = powerOfTen;
            units[si + "bytes"] = powerOfTen;
            units[binary + "byte"] = powerOfTwo;
            units[binary + "bytes"] = powerOfTwo;
        }

        // Spec spelling: the kilo prefix is lower-case in "kB".
        units["kB"] = 1000;
        return units;
    }
}
