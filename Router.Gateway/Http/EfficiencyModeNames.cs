using Router.Actors.Routing;

namespace Router.Gateway.Http;

/// <summary>
/// The wire names of <see cref="EfficiencyMode"/>, as the gateway has always called them; the
/// table itself is <see cref="WireNames"/> in the core, which every surface shares.
/// </summary>
internal static class EfficiencyModeNames
{
    /// <summary>"performance, balanced, efficiency, quiet, ultra-efficiency, auto", for error messages.</summary>
    public static readonly string ValidList = WireNames.ValidModes;

    public static string ToWire(EfficiencyMode mode) => WireNames.ToWire(mode);

    /// <summary>Any case with '-', '_', ' ' or nothing between words; numbers are not modes.</summary>
    public static bool TryParse(string? value, out EfficiencyMode mode) => WireNames.TryParseMode(value, out mode);
}
