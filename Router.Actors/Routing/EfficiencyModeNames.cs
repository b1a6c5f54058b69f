namespace Router.Actors.Routing;

/// <summary>
/// The wire names of <see cref="EfficiencyMode"/>, one table for every surface (HTTP, gRPC, D-Bus,
/// the configuration): kebab-case out, forgiving in.
/// </summary>
public static class EfficiencyModeNames
{
    private static readonly EfficiencyMode[] Modes = Enum.GetValues<EfficiencyMode>();

    /// <summary>Every mode id in menu order: performance, balanced, efficiency, quiet, ultra-efficiency, auto.</summary>
    public static readonly IReadOnlyList<string> All = Array.AsReadOnly(Array.ConvertAll(Modes, ToWire));

    /// <summary>"performance, balanced, efficiency, quiet, ultra-efficiency, auto", for error messages.</summary>
    public static readonly string ValidList = string.Join(", ", All);

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
    /// Accepts any case with '-', '_', ' ' or nothing between words: <c>ultra-efficiency</c>,
    /// <c>ULTRA_EFFICIENCY</c>, <c>UltraEfficiency</c>. Numbers are not modes.
    /// </summary>
    public static bool TryParse(string? value, out EfficiencyMode mode)
    {
        mode = default;
        if (string.IsNullOrWhiteSpace(value)) return false;
        Span<char> folded = stackalloc char[32];
        var length = 0;
        foreach (var c in value.AsSpan().Trim())
        {
            if (c is '-' or '_' or ' ') continue;
            if (length == folded.Length || !char.IsAsciiLetter(c)) return false;
            folded[length++] = char.ToLowerInvariant(c);
        }
        foreach (var candidate in Modes)
        {
            if (folded[..length].Equals(candidate.ToString(), StringComparison.OrdinalIgnoreCase))
            {
                mode = candidate;
                return true;
            }
        }
        return false;
    }
}
