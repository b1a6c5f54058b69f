using Router.Actors.Routing;
using Router.DBus.Export;
using Tmds.DBus.Protocol;

namespace Router.Tests.DBus.Export;

public sealed class AddressAndHintTests
{
    [Theory]
    [InlineData("unix:path=/run/user/1000/bus", "unix:path=/run/user/1000/bus")]
    [InlineData("unix:path=/tmp/bus,guid=2e214fa4d1eafea79246c3826b152238", "unix:path=/tmp/bus")]
    [InlineData("unix:guid=abc,abstract=/tmp/dbus-x", "unix:abstract=/tmp/dbus-x")]
    [InlineData("unix:path=/a,guid=1;tcp:host=localhost,port=1,guid=1", "unix:path=/a;tcp:host=localhost,port=1")]
    public void WithoutGuid_DropsOnlyTheGuid(string address, string expected) => Assert.Equal(expected, RouterBus.WithoutGuid(address));

    [Fact]
    public void ExplainHints_EveryHint_ReadIntoRoutingHints()
    {
        var parsed = ExplainHints.Parse(new Dictionary<string, VariantValue>
        {
            ["model"] = VariantValue.String("llama3.2:1b"),
            ["target"] = VariantValue.String("npu"),
            ["latency_critical"] = VariantValue.Bool(true),
            ["power_efficient"] = VariantValue.Bool(true),
            ["max_latency_ms"] = VariantValue.Double(499.5),
            ["max_power_watts"] = VariantValue.Double(15),
            ["priority"] = VariantValue.String("best-effort"),
        });

        Assert.Null(parsed.Error);
        Assert.Equal("llama3.2:1b", parsed.Model);
        Assert.Equal(new RoutingHints
        {
            Target = "npu", LatencyCritical = true, PreferPowerEfficiency = true, MaxLatencyMs = 500, MaxPowerWatts = 15, Priority = Priority.BestEffort,
        }, parsed.Hints);
    }

    [Theory]
    [InlineData("max_latency_ms", "u0", "hint 'max_latency_ms' must be a positive number of milliseconds")]
    [InlineData("max_latency_ms", "s", "hint 'max_latency_ms' must be a number of milliseconds (u or d)")]
    [InlineData("max_power_watts", "d-1", "hint 'max_power_watts' must be a positive number of watts")]
    [InlineData("latency_critical", "s", "hint 'latency_critical' must be a boolean (b)")]
    [InlineData("model", "b", "hint 'model' must be a string (s)")]
    public void ExplainHints_WrongTypeOrValue_InvalidHintNamingIt(string hint, string value, string message)
    {
        var variant = value switch
        {
            "u0" => VariantValue.UInt32(0),
            "d-1" => VariantValue.Double(-1),
            "b" => VariantValue.Bool(true),
            _ => VariantValue.String("x"),
        };

        var parsed = ExplainHints.Parse(new Dictionary<string, VariantValue> { [hint] = variant });

        Assert.Equal(new DBusError("ie.fio.OllamaProxy.Error.InvalidHint", message), parsed.Error);
    }
}
