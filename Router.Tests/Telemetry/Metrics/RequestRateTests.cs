using Router.Telemetry.Metrics;

namespace Router.Tests.Telemetry.Metrics;

public sealed class RequestRateTests
{
    private readonly Microsoft.Extensions.Time.Testing.FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public void PerMinute_RequestsWithinTheLastMinute_Counted()
    {
        var rate = new RequestRate(_time);
        for (var second = 0; second < 30; second++)
        {
            rate.Record("npu");
            rate.Record("npu");
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        rate.Record("gpu");

        Assert.Equal(60, rate.PerMinute("npu"));
        Assert.Equal(1, rate.PerMinute("gpu"));
        Assert.Equal(0, rate.PerMinute("cpu"));
    }

    [Fact]
    public void PerMinute_OlderThanAMinute_Dropped()
    {
        var rate = new RequestRate(_time);
        rate.Record("npu");
        _time.Advance(TimeSpan.FromSeconds(30));
        rate.Record("npu");
        rate.Record("npu");

        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(2, rate.PerMinute("npu"));

        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(0, rate.PerMinute("npu"));
    }

    [Fact]
    public void Record_SameSlotAMinuteLater_StartsAfresh()
    {
        var rate = new RequestRate(_time);
        for (var i = 0; i < 5; i++) rate.Record("npu");

        _time.Advance(TimeSpan.FromSeconds(60));
        rate.Record("npu");

        Assert.Equal(1, rate.PerMinute("npu"));
    }
}
