using Microsoft.AspNetCore.Http;
using Router.Actors.Routing;
using Router.Gateway.Http;

namespace Router.Tests.Http;

public sealed class RoutingHintsParserTests
{
    private static RoutingHints Parse(out HintError? error, params (string Name, string Value)[] headers)
    {
        var dictionary = new HeaderDictionary();
        foreach (var (name, value) in headers) dictionary.Append(name, value);
        return RoutingHintsParser.Parse(dictionary, out error);
    }

    public static TheoryData<string, string, string, object?> ValidRows => new()
    {
        // header, value, hint property, expected value
        { "X-Target-Backend", "ollama-npu", nameof(RoutingHints.Target), "ollama-npu" },
        { "X-Target-Backend", "  nvidia ", nameof(RoutingHints.Target), "nvidia" },
        { "X-Latency-Critical", "true", nameof(RoutingHints.LatencyCritical), true },
        { "X-Latency-Critical", "TRUE", nameof(RoutingHints.LatencyCritical), true },
        { "X-Latency-Critical", "1", nameof(RoutingHints.LatencyCritical), true },
        { "X-Latency-Critical", "0", nameof(RoutingHints.LatencyCritical), false },
        { "X-Latency-Critical", "false", nameof(RoutingHints.LatencyCritical), false },
        { "X-Power-Efficient", "1", nameof(RoutingHints.PreferPowerEfficiency), true },
        { "X-Power-Efficient", "False", nameof(RoutingHints.PreferPowerEfficiency), false },
        { "X-Max-Latency-Ms", "500", nameof(RoutingHints.MaxLatencyMs), 500 },
        { "X-Max-Power-Watts", "15", nameof(RoutingHints.MaxPowerWatts), 15.0 },
        { "X-Max-Power-Watts", "7.5", nameof(RoutingHints.MaxPowerWatts), 7.5 },
        { "X-Priority", "best-effort", nameof(RoutingHints.Priority), Priority.BestEffort },
        { "X-Priority", "best_effort", nameof(RoutingHints.Priority), Priority.BestEffort },
        { "X-Priority", "BestEffort", nameof(RoutingHints.Priority), Priority.BestEffort },
        { "X-Priority", "normal", nameof(RoutingHints.Priority), Priority.Normal },
        { "X-Priority", "HIGH", nameof(RoutingHints.Priority), Priority.High },
        { "X-Priority", "critical", nameof(RoutingHints.Priority), Priority.Critical },
        { "X-Priority", "0", nameof(RoutingHints.Priority), Priority.BestEffort },
        { "X-Priority", "3", nameof(RoutingHints.Priority), Priority.Critical },
        { "X-Media-Type", "voice", nameof(RoutingHints.MediaType), "voice" },
        { "X-Request-ID", "req-42", nameof(RoutingHints.RequestId), "req-42" },
        { "X-Priority", "", nameof(RoutingHints.Priority), Priority.Normal },
    };

    [Theory]
    [MemberData(nameof(ValidRows))]
    public void Parse_ValidHeader_SetsHint(string header, string value, string property, object? expected)
    {
        var hints = Parse(out var error, (header, value));

        Assert.Null(error);
        Assert.Equal(expected, typeof(RoutingHints).GetProperty(property)!.GetValue(hints));
    }

    [Theory]
    [InlineData("X-Latency-Critical", "yes", "true, false, 1 or 0")]
    [InlineData("X-Latency-Critical", "2", "true, false, 1 or 0")]
    [InlineData("X-Power-Efficient", "on", "true, false, 1 or 0")]
    [InlineData("X-Max-Latency-Ms", "0", "positive whole number")]
    [InlineData("X-Max-Latency-Ms", "-5", "positive whole number")]
    [InlineData("X-Max-Latency-Ms", "1.5", "positive whole number")]
    [InlineData("X-Max-Latency-Ms", "fast", "positive whole number")]
    [InlineData("X-Max-Latency-Ms", "99999999999", "positive whole number")]
    [InlineData("X-Max-Power-Watts", "0", "positive number of watts")]
    [InlineData("X-Max-Power-Watts", "-3", "positive number of watts")]
    [InlineData("X-Max-Power-Watts", "NaN", "positive number of watts")]
    [InlineData("X-Max-Power-Watts", "10W", "positive number of watts")]
    [InlineData("X-Priority", "urgent", "best-effort, normal, high, critical, or 0-3")]
    [InlineData("X-Priority", "4", "best-effort, normal, high, critical, or 0-3")]
    [InlineData("X-Priority", "-1", "best-effort, normal, high, critical, or 0-3")]
    [InlineData("X-Request-ID", "has space", "visible ASCII")]
    public void Parse_InvalidHeader_NamesHeaderAndValidValues(string header, string value, string valid)
    {
        Parse(out var error, (header, value));

        Assert.NotNull(error);
        Assert.Equal(header, error.Name);
        Assert.Contains(header, error.Message, StringComparison.Ordinal);
        Assert.Contains(valid, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_HeaderSentTwice_IsRejected()
    {
        Parse(out var error, ("X-Priority", "high"), ("X-Priority", "low"));

        Assert.NotNull(error);
        Assert.Equal("X-Priority", error.Name);
        Assert.Contains("2 times", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_NoHeaders_DefaultsWithGeneratedRequestId()
    {
        var first = Parse(out var error);
        var second = Parse(out _);

        Assert.Null(error);
        Assert.Equal(Priority.Normal, first.Priority);
        Assert.False(first.LatencyCritical);
        Assert.Null(first.Target);
        Assert.False(string.IsNullOrEmpty(first.RequestId));
        Assert.NotEqual(first.RequestId, second.RequestId);
        // A generated id is itself a valid id: what the router echoes, a client may send back.
        Assert.True(RoutingHintsParser.IsValidRequestId(first.RequestId));
        Assert.Matches("^[0-9a-f]{32}$", first.RequestId);
    }

    [Fact]
    public void NewRequestId_ManyFromManyThreads_AllDistinct()
    {
        var ids = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, 20_000, _ => ids.Add(RoutingHintsParser.NewRequestId()));

        Assert.Equal(20_000, ids.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void Parse_AllHeaders_CombineIntoOneHintSet()
    {
        var hints = Parse(out var error,
            ("X-Target-Backend", "npu"), ("X-Latency-Critical", "1"), ("X-Power-Efficient", "true"),
            ("X-Max-Latency-Ms", "800"), ("X-Max-Power-Watts", "12.5"), ("X-Priority", "critical"),
            ("X-Media-Type", "realtime"), ("X-Request-ID", "abc-123"));

        Assert.Null(error);
        Assert.Equal(new RoutingHints
        {
            Target = "npu",
            LatencyCritical = true,
            PreferPowerEfficiency = true,
            MaxLatencyMs = 800,
            MaxPowerWatts = 12.5,
            Priority = Priority.Critical,
            MediaType = "realtime",
            RequestId = "abc-123",
        }, hints);
    }
}
