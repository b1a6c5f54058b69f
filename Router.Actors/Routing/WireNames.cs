using System.Collections.Immutable;

namespace Router.Actors.Routing;

/// <summary>
/// The one table of the names priorities, backend health and efficiency modes go by outside the
/// process: HTTP and WebSocket fields, admin answers, the CLI, configuration keys, metric labels and
/// D-Bus. Kebab-case everywhere (<c>best-effort</c>, <c>ultra-efficiency</c>), so a name read from
/// one surface works on every other. Parsing is forgiving about case and separators.
/// </summary>
public static class WireNames
{
    /// <summary>Every priority, lowest first: the order of per-priority arrays (queue limits, depths).</summary>
    public static readonly ImmutableArray<Priority> Priorities = [Priority.BestEffort, Priority.Normal, Priority.High, Priority.Critical];

    /// <summary>Every mode, in the order the enum declares them.</summary>
    public static readonly ImmutableArray<EfficiencyMode> Modes = [.. Enum.GetValues<EfficiencyMode>()];

    /// <summary>The priority names, lowest first: <c>best-effort, normal, high, critical</c>.</summary>
    public static readonly ImmutableArray<string> PriorityNames = [.. Priorities.Select(ToWire)];

    /// <summary>"performance, balanced, efficiency, quiet, ultra-efficiency, auto", for messages that list the valid modes.</summary>
    public static readonly string ValidModes = string.Join(", ", Modes.Select(ToWire));

    /// <summary>Every mode id in menu order: performance, balanced, efficiency, quiet, ultra-efficiency, auto.</summary>
    public static readonly ImmutableArray<string> ModeNames = [.. Modes.Select(ToWire)];

    public static string ToWire(Priority priority) => priority switch
    {
        Priority.BestEffort => "best-effort",
        Priority.Normal => "normal",
        Priority.High => "high",
        Priority.Critical => "critical",
        _ => "unknown",
    };

    public static string ToWire(BackendHealth health) => health switch
    {
        BackendHealth.Healthy => "healthy",
        BackendHealth.Degraded => "degraded",
        BackendHealth.Unhealthy => "unhealthy",
        BackendHealth.Ejected => "ejected",
        _ => "unknown",
    };

    public static string ToWire(EfficiencyMode mode) => mode switch
    {
        EfficiencyMode.Performance => "performance",
        EfficiencyMode.Balanced => "balanced",
        EfficiencyMode.Efficiency => "efficiency",
        EfficiencyMode.Quiet => "quiet",
        EfficiencyMode.UltraEfficiency => "ultra-efficiency",
        EfficiencyMode.Auto => "auto",
        _ => mode.ToString().ToLowerInvariant(),
    };

    /// <summary>
    /// A mode in any case with '-', '_', ' ' or nothing between words: <c>ultra-efficiency</c>,
    /// <c>ULTRA_EFFICIENCY</c>, <c>UltraEfficiency</c>. Numbers are not modes.
    /// </summary>
    public static bool TryParseMode(string? value, out EfficiencyMode mode)
    {
        mode = default;
        if (!TryFold(value, out var folded)) return false;
        foreach (var candidate in Modes)
        {
            if (string.Equals(folded, Fold(ToWire(candidate)), StringComparison.Ordinal))
            {
                mode = candidate;
                return true;
            }
        }

        return false;
    }

    /// <summary>A priority by name, in any case with '-', '_' or nothing between words, or by its number 0-3.</summary>
    public static bool TryParsePriority(string? value, out Priority priority)
    {
        priority = Priority.Normal;
        var trimmed = value.AsSpan().Trim();
        if (trimmed.Length == 1 && trimmed[0] is >= '0' and <= '3')
        {
            priority = (Priority)(trimmed[0] - '0');
            return true;
        }

        if (!TryFold(value, out var folded)) return false;
        foreach (var candidate in Priorities)
        {
            if (string.Equals(folded, Fold(ToWire(candidate)), StringComparison.Ordinal))
            {
                priority = candidate;
                return true;
            }
        }

        return false;
    }

    // Lower case, separators dropped; false for text that can be no name (empty, or not letters).
    private static bool TryFold(string? value, out string folded)
    {
        folded = "";
        if (string.IsNullOrWhiteSpace(value) || value.Length > 64) return false;
        var trimmed = value.AsSpan().Trim();
        Span<char> buffer = stackalloc char[trimmed.Length];
        var length = 0;
        foreach (var c in trimmed)
        {
            if (c is '-' or '_' or ' ') continue;
            if (!char.IsAsciiLetter(c)) return false;
            buffer[length++] = char.ToLowerInvariant(c);
        }

        folded = new string(buffer[..length]);
        return length > 0;
    }

    private static string Fold(string name) => name.Replace("-", "", StringComparison.Ordinal);
}
