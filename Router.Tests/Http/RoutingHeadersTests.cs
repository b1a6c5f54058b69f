using Microsoft.AspNetCore.Http;
using Router.Actors.Routing;
using Router.Gateway.Http;

namespace Router.Tests.Http;

/// <summary>The decision as a client reads it from the answer's headers.</summary>
public sealed class RoutingHeadersTests
{
    private static IHeaderDictionary Write(double latencyMs, double powerWatts, params string[] alternatives)
    {
        var headers = new HeaderDictionary();
        RoutingHeaders.WriteDecision(headers, new RoutingDecision("ollama-npu", RouteReasons.Fallback, [.. alternatives], new RouteEstimate(latencyMs, powerWatts, 0), EfficiencyMode.Balanced));
        return headers;
    }

    [Theory]
    [InlineData(150, "150")]
    [InlineData(12.3456, "12.346")]
    [InlineData(0.0004, "0")]
    [InlineData(2.5, "2.5")]
    [InlineData(1234567.8915, "1234567.892")]
    public void Estimates_AtMostThreeDecimals_NoExponentNoTrailingZeros(double value, string expected)
    {
        var headers = Write(value, value);

        Assert.Equal(expected, headers[RoutingHeaders.EstimatedLatencyMs].ToString());
        Assert.Equal(expected, headers[RoutingHeaders.EstimatedPowerW].ToString());
    }

    [Fact]
    public void Alternatives_CommaSeparatedInOrder_OrEmpty()
    {
        Assert.Equal("ollama-igpu,ollama-cpu", Write(1, 1, "ollama-igpu", "ollama-cpu")[RoutingHeaders.Alternatives].ToString());
        Assert.Equal("", Write(1, 1)[RoutingHeaders.Alternatives].ToString());
        Assert.Equal("ollama-npu", Write(1, 1)[RoutingHeaders.BackendUsed].ToString());
        Assert.Equal(RouteReasons.Fallback, Write(1, 1)[RoutingHeaders.RoutingReason].ToString());
    }
}
