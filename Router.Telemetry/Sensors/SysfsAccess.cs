using System.Globalization;

namespace Router.Telemetry.Sensors;

/// <summary>How reading one sysfs attribute ended.</summary>
internal enum SysfsStatus
{
    Ok,
    /// <summary>The file or a directory above it does not exist.</summary>
    Missing,
    /// <summary>EACCES/EPERM: the file exists but this process may not read it (RAPL since Linux 5.10).</summary>
    Denied,
    /// <summary>Any other I/O error; sysfs attributes return EIO or ENODATA when the driver cannot answer.</summary>
    Failed,
}

/// <summary>The outcome of reading one attribute: its trimmed text, or why there is none.</summary>
internal readonly record struct SysfsRead(SysfsStatus Status, string Text, string Path)
{
    public bool Ok => Status == SysfsStatus.Ok;

    /// <summary>A reason sentence for an unavailable reading, naming the file.</summary>
    public string Reason => Status switch
    {
        SysfsStatus.Ok => "",
        SysfsStatus.Missing => $"{Path} does not exist",
        SysfsStatus.Denied => $"{Path} is not readable (permission denied)",
        _ => $"{Path} could not be read: {Text}",
    };
}

/// <summary>
/// The file-access seam under every sysfs reader. Tests substitute it to simulate EACCES, which
/// chmod cannot produce for a process running as root.
/// </summary>
internal interface ISysfsAccess
{
    SysfsRead Read(string path);

    /// <summary>Entry paths (files, directories or symlinks, as sysfs class directories hold symlinks) matching a pattern; empty when the directory is missing.</summary>
    IReadOnlyList<string> List(string directory, string pattern);
}

/// <summary>The real file system. Expected failures become <see cref="SysfsRead"/> values, never exceptions.</summary>
internal sealed class SysfsAccess : ISysfsAccess
{
    public static readonly SysfsAccess Instance = new();

    public SysfsRead Read(string path)
    {
        // Missing attributes are common (no thermal_throttle outside Intel, no battery on a desktop)
        // and read every few seconds: ask first rather than throw and catch each time.
        if (!File.Exists(path))
        {
            return new SysfsRead(SysfsStatus.Missing, "", path);
        }

        try
        {
            return new SysfsRead(SysfsStatus.Ok, File.ReadAllText(path).Trim(), path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return new SysfsRead(SysfsStatus.Missing, "", path);
        }
        catch (UnauthorizedAccessException)
        {
            return new SysfsRead(SysfsStatus.Denied, "", path);
        }
        catch (IOException e)
        {
            return new SysfsRead(SysfsStatus.Failed, e.Message, path);
        }
    }

    public IReadOnlyList<string> List(string directory, string pattern)
    {
        // Whole classes are absent on many machines (no thermal zones in a VM, no powercap).
        if (!Directory.Exists(directory))
        {
            return Array.Empty<string>();
        }

        try
        {
            var entries = Directory.GetFileSystemEntries(directory, pattern);
            Array.Sort(entries, SysfsNames.NaturalOrder);
            return entries;
        }
        catch (Exception e) when (e is DirectoryNotFoundException or UnauthorizedAccessException or IOException)
        {
            return Array.Empty<string>();
        }
    }
}

/// <summary>Parsing and naming rules shared by the readers.</summary>
internal static class SysfsNames
{
    /// <summary>Orders <c>hwmon2</c> before <c>hwmon10</c>, so sensors keep the kernel's numbering.</summary>
    public static readonly Comparer<string> NaturalOrder = Comparer<string>.Create(CompareNatural);

    /// <summary>The number that follows <paramref name="prefix"/> in a file name (<c>temp3_input</c> → 3), or -1.</summary>
    public static int IndexAfter(string fileName, string prefix)
    {
        if (!fileName.StartsWith(prefix, StringComparison.Ordinal))
        {
            return -1;
        }

        var end = prefix.Length;
        while (end < fileName.Length && char.IsAsciiDigit(fileName[end]))
        {
            end++;
        }

        return end > prefix.Length && int.TryParse(fileName.AsSpan(prefix.Length, end - prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var index)
            ? index
            : -1;
    }

    /// <summary>A whole-number attribute, or an unavailable reason (missing, unreadable, or not a number).</summary>
    public static bool TryReadLong(ISysfsAccess access, string path, out long value, out string reason) =>
        TryParseLong(access.Read(path), out value, out reason);

    /// <summary>A whole-number attribute already read, or an unavailable reason.</summary>
    public static bool TryParseLong(SysfsRead read, out long value, out string reason)
    {
        if (!read.Ok)
        {
            value = 0;
            reason = read.Reason;
            return false;
        }

        if (!long.TryParse(read.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value))
        {
            reason = $"{read.Path} holds '{Truncate(read.Text)}', not a number";
            return false;
        }

        reason = "";
        return true;
    }

    /// <summary>Text for a reason sentence: at most 32 characters, no line breaks.</summary>
    public static string Truncate(string text)
    {
        var oneLine = text.ReplaceLineEndings(" ");
        return oneLine.Length <= 32 ? oneLine : string.Concat(oneLine.AsSpan(0, 32), "…");
    }

    private static int CompareNatural(string? x, string? y)
    {
        if (x is null || y is null)
        {
            return string.CompareOrdinal(x, y);
        }

        int i = 0, j = 0;
        while (i < x.Length && j < y.Length)
        {
            if (char.IsAsciiDigit(x[i]) && char.IsAsciiDigit(y[j]))
            {
                var si = i;
                var sj = j;
                while (i < x.Length && char.IsAsciiDigit(x[i])) { i++; }
                while (j < y.Length && char.IsAsciiDigit(y[j])) { j++; }
                var a = x.AsSpan(si, i - si).TrimStart('0');
                var b = y.AsSpan(sj, j - sj).TrimStart('0');
                var byLength = a.Length.CompareTo(b.Length);
                if (byLength != 0)
                {
                    return byLength;
                }

                var byDigits = a.SequenceCompareTo(b);
                if (byDigits != 0)
                {
                    return byDigits;
                }

                continue;
            }

            var c = x[i].CompareTo(y[j]);
            if (c != 0)
            {
                return c;
            }

            i++;
            j++;
        }

        return (x.Length - i).CompareTo(y.Length - j);
    }
}
