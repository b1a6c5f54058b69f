using Router.Actors.Routing;

namespace Router.Tests.Routing;

public sealed class WireNamesModeParsingTests
{
    [Theory]
    [InlineData("performance", EfficiencyMode.Performance)]
    [InlineData("Balanced", EfficiencyMode.Balanced)]
    [InlineData("EFFICIENCY", EfficiencyMode.Efficiency)]
    [InlineData("quiet", EfficiencyMode.Quiet)]
    [InlineData("ultra-efficiency", EfficiencyMode.UltraEfficiency)]
    [InlineData("ultra_efficiency", EfficiencyMode.UltraEfficiency)]
    [InlineData("UltraEfficiency", EfficiencyMode.UltraEfficiency)]
    [InlineData("Ultra Efficiency", EfficiencyMode.UltraEfficiency)]
    [InlineData(" auto ", EfficiencyMode.Auto)]
    public void TryParse_AnySpelling_FindsMode(string text, EfficiencyMode expected)
    {
        Assert.True(WireNames.TryParseMode(text, out var mode));
        Assert.Equal(expected, mode);
    }

    [Theory]
    [InlineData("turbo")]
    [InlineData("")]
    [InlineData("1")]
    [InlineData("ultra-efficiency-plus")]
    public void TryParse_NotAMode_Fails(string text)
    {
        Assert.False(WireNames.TryParseMode(text, out _));
    }

    [Fact]
    public void ToWire_EveryMode_RoundTrips()
    {
        foreach (var mode in Enum.GetValues<EfficiencyMode>())
        {
            Assert.True(WireNames.TryParseMode(WireNames.ToWire(mode), out var parsed));
            Assert.Equal(mode, parsed);
        }
        Assert.Equal("performance, balanced, efficiency, quiet, ultra-efficiency, auto", WireNames.ValidModes);
    }
}
