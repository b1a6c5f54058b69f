using Router.Telemetry.Sensors;

namespace Router.Tests.Telemetry.Sensors;

public sealed class ThrottleReaderTests
{
    private readonly Microsoft.Extensions.Time.Testing.FakeTimeProvider _time = TestClock.Create();

    [Fact]
    public void Read_TwoCpus_SumsCoreAndPackageCounters()
    {
        using var sysfs = FakeSysfs.Laptop();

        var reading = new ThrottleReader(sysfs.Config, _time).Read();

        Assert.True(reading.IsAvailable);
        Assert.Equal((5L, 20L, 25L), (reading.CoreCount!.Value, reading.PackageCount!.Value, reading.Total!.Value));
    }

    [Fact]
    public void IsThrottlingSince_CounterRose_TrueThenFalseWhenSteady()
    {
        using var sysfs = FakeSysfs.Laptop();
        var reader = new ThrottleReader(sysfs.Config, _time);
        var first = reader.Read();
        sysfs.Write("devices/system/cpu/cpu1/thermal_throttle/core_throttle_count", "3");

        var second = reader.Read();
        var third = reader.Read();

        Assert.True(second.IsThrottlingSince(first));
        Assert.False(third.IsThrottlingSince(second));
        Assert.False(first.IsThrottlingSince(null));
    }

    [Fact]
    public void Read_NoCounters_UnavailableWithReason()
    {
        using var sysfs = new FakeSysfs().Write("devices/system/cpu/cpu0/online", "1");

        var reading = new ThrottleReader(sysfs.Config, _time).Read();

        Assert.False(reading.IsAvailable);
        Assert.Null(reading.Total);
        Assert.Contains("no thermal_throttle counters", reading.UnavailableReason, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_AllCountersGarbled_UnavailableNamingTheFile()
    {
        using var sysfs = new FakeSysfs()
            .Write("devices/system/cpu/cpu0/thermal_throttle/core_throttle_count", "n/a")
            .Write("devices/system/cpu/cpu0/thermal_throttle/package_throttle_count", "n/a");

        var reading = new ThrottleReader(sysfs.Config, _time).Read();

        Assert.False(reading.IsAvailable);
        Assert.Contains("throttle_count holds 'n/a', not a number", reading.UnavailableReason, StringComparison.Ordinal);
    }
}
