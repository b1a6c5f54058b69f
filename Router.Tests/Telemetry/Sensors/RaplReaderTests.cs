using Router.Telemetry.Sensors;

namespace Router.Tests.Telemetry.Sensors;

public sealed class RaplReaderTests
{
    private const string Package = "class/powercap/intel-rapl:0/energy_uj";
    private readonly Microsoft.Extensions.Time.Testing.FakeTimeProvider _time = TestClock.Create();

    [Fact]
    public void Read_TwoReadings_WattsFromCounterDelta()
    {
        using var sysfs = FakeSysfs.Laptop();
        var reader = new RaplReader(sysfs.Config, _time);

        var first = reader.Read();
        sysfs.Write(Package, "11000000").Write("class/powercap/intel-rapl:0:1/energy_uj", "2200000");
        _time.Advance(TimeSpan.FromSeconds(2));
        var second = reader.Read();

        Assert.True(first.IsAvailable);
        Assert.Null(first.Domain("package-0")!.Watts);
        Assert.Equal(["package-0", "core", "uncore"], second.Domains.Select(d => d.Name));
        Assert.Equal(5.0, second.Domain("package-0")!.Watts);
        Assert.Equal(10.0, second.Domain("intel-rapl:0")!.EnergyJoules);
        Assert.Equal(1.0, second.GpuWatts);
        Assert.Equal(5.0, second.PackageWatts);
        Assert.Equal(0.0, second.Domain("core")!.Watts);
    }

    [Theory]
    [InlineData(100L, 300L, 1000L, 200L)]
    [InlineData(900L, 100L, 1000L, 200L)]
    [InlineData(1000L, 0L, 1000L, 0L)]
    [InlineData(900L, 100L, null, null)]
    [InlineData(100L, 5000L, 1000L, null)]
    [InlineData(5L, 5L, null, 0L)]
    public void Delta_CounterValues_UndoesOneWrapAroundMaxRange(long previous, long current, long? range, long? expected)
    {
        Assert.Equal(expected, RaplReader.Delta(previous, current, range));
    }

    [Fact]
    public void Read_CounterWrapped_PowerFromMaxEnergyRange()
    {
        using var sysfs = new FakeSysfs()
            .Write("class/powercap/intel-rapl:0/name", "package-0")
            .Write("class/powercap/intel-rapl:0/max_energy_range_uj", "100000000")
            .Write("class/powercap/intel-rapl:0/energy_uj", "95000000");
        var reader = new RaplReader(sysfs.Config, _time);
        reader.Read();

        sysfs.Write(Package, "5000000");
        _time.Advance(TimeSpan.FromSeconds(1));
        var reading = reader.Read();

        var domain = reading.Domain("package-0")!;
        Assert.Equal(10.0, domain.Watts);
        Assert.Equal(10.0, domain.EnergyJoules);
    }

    [Fact]
    public void Read_CounterWentBackWithoutRange_NoPowerThenResumes()
    {
        using var sysfs = new FakeSysfs()
            .Write("class/powercap/intel-rapl:0/name", "package-0")
            .Write("class/powercap/intel-rapl:0/energy_uj", "95000000");
        var reader = new RaplReader(sysfs.Config, _time);
        reader.Read();

        sysfs.Write(Package, "5000000");
        _time.Advance(TimeSpan.FromSeconds(1));
        var wrapped = reader.Read();
        sysfs.Write(Package, "8000000");
        _time.Advance(TimeSpan.FromSeconds(1));
        var after = reader.Read();

        Assert.Null(wrapped.Domain("package-0")!.Watts);
        Assert.Equal(3.0, after.Domain("package-0")!.Watts);
        Assert.Equal(3.0, after.Domain("package-0")!.EnergyJoules);
    }

    [Fact]
    public void Read_EnergyOnlyForRoot_UnavailableWithReasonFlaggedOnce()
    {
        using var sysfs = FakeSysfs.Laptop();
        var access = new DenyingSysfsAccess(path => path.EndsWith("energy_uj", StringComparison.Ordinal));
        var reader = new RaplReader(sysfs.Config, _time, access);

        var first = reader.Read();
        var second = reader.Read();

        Assert.False(first.IsAvailable);
        Assert.True(first.PermissionDenied);
        Assert.Equal("RAPL energy is readable only by root since Linux 5.10; falling back to estimates", first.UnavailableReason);
        Assert.True(first.ReportDenial);
        Assert.False(second.ReportDenial);
        Assert.Equal(first.UnavailableReason, second.UnavailableReason);
        Assert.All(second.Domains, d => Assert.Null(d.Watts));
        Assert.Null(second.PackageWatts);
    }

    [Fact]
    public void Read_NoPowercap_UnavailableNotDenied()
    {
        using var sysfs = new FakeSysfs();

        var reading = new RaplReader(sysfs.Config, _time).Read();

        Assert.False(reading.IsAvailable);
        Assert.False(reading.PermissionDenied);
        Assert.False(reading.ReportDenial);
        Assert.Contains("no RAPL domains", reading.UnavailableReason, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_GarbledCounter_ThatDomainUnavailableOthersMeasure()
    {
        using var sysfs = FakeSysfs.Laptop();
        var reader = new RaplReader(sysfs.Config, _time);
        reader.Read();
        sysfs.Write("class/powercap/intel-rapl:0:0/energy_uj", "garbage").Write(Package, "3000000");
        _time.Advance(TimeSpan.FromSeconds(1));

        var reading = reader.Read();

        Assert.True(reading.IsAvailable);
        Assert.Contains("not a number", reading.Domain("core")!.UnavailableReason, StringComparison.Ordinal);
        Assert.Equal(2.0, reading.PackageWatts);
    }
}
