using Router.Actors.Routing;
using Router.Gateway.Http;
using Router.Telemetry.Metrics;

namespace Router.Tests.Routing;

/// <summary>One spelling per priority, health state and mode, read back by every parser.</summary>
public sealed class WireNamesTests
{
    [Theory]
    [InlineData(Priority.BestEffort, "best-effort")]
    [InlineData(Priority.Normal, "normal")]
    [InlineData(Priority.High, "high")]
    [InlineData(Priority.Critical, "critical")]
    public void Priority_OneNameEverywhere(Priority priority, string name)
    {
        Assert.Equal(name, WireNames.ToWire(priority));
        Assert.Equal(name, RouterMetrics.PriorityLabel(priority));
        Assert.True(RoutingHintsParser.TryParsePriority(name, out var parsed));
        Assert.Equal(priority, parsed);
        Assert.True(WireNames.TryParsePriority(((int)priority).ToString(System.Globalization.CultureInfo.InvariantCulture), out var byNumber));
        Assert.Equal(priority, byNumber);
    }

    [Theory]
    [InlineData(EfficiencyMode.Performance, "performance")]
    [InlineData(EfficiencyMode.Balanced, "balanced")]
    [InlineData(EfficiencyMode.Efficiency, "efficiency")]
    [InlineData(EfficiencyMode.Quiet, "quiet")]
    [InlineData(EfficiencyMode.UltraEfficiency, "ultra-efficiency")]
    [InlineData(EfficiencyMode.Auto, "auto")]
    public void Mode_OneNameEverywhere(EfficiencyMode mode, string name)
    {
        Assert.Equal(name, WireNames.ToWire(mode));
        Assert.Equal(name, WireNames.ToWire(mode));
        Assert.True(WireNames.TryParseMode(name, out var parsed));
        Assert.Equal(mode, parsed);
        Assert.True(WireNames.TryParseMode(name.Replace('-', '_').ToUpperInvariant(), out var shouted));
        Assert.Equal(mode, shouted);
    }

    [Theory]
    [InlineData(BackendHealth.Unknown, "unknown")]
    [InlineData(BackendHealth.Healthy, "healthy")]
    [InlineData(BackendHealth.Degraded, "degraded")]
    [InlineData(BackendHealth.Unhealthy, "unhealthy")]
    [InlineData(BackendHealth.Ejected, "ejected")]
    public void Health_OneName(BackendHealth health, string name) => Assert.Equal(name, WireNames.ToWire(health));

    [Theory]
    [InlineData("4")]
    [InlineData("")]
    [InlineData("urgent")]
    [InlineData("best effort!")]
    public void TryParsePriority_NotAPriority_False(string text) => Assert.False(WireNames.TryParsePriority(text, out _));
}
