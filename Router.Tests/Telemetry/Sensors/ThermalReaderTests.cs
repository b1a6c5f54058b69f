using System.Collections.Immutable;
using Router.Actors.Config;
using Router.Telemetry.Sensors;

namespace Router.Tests.Telemetry.Sensors;

public sealed class ThermalReaderTests
{
    private readonly Microsoft.Extensions.Time.Testing.FakeTimeProvider _time = TestClock.Create();

    [Fact]
    public void Read_LaptopTree_ReportsZonesHwmonLabelsAndFans()
    {
        using var sysfs = FakeSysfs.Laptop();

        var reading = new ThermalReader(sysfs.Config, _time).Read();

        Assert.True(reading.IsAvailable);
        Assert.Equal(_time.GetUtcNow(), reading.Timestamp);
        Assert.Equal(
            [
                ("acpitz", 45.0),
                ("x86_pkg_temp", 62.5),
                ("coretemp/Package id 0", 63.0),
                ("coretemp/Core 0", 58.0),
                ("thinkpad/temp1", 50.0),
            ],
            reading.Temperatures.Select(t => (t.Name, t.Celsius!.Value)));
        var fan = Assert.Single(reading.Fans);
        Assert.Equal(("thinkpad/fan1", 2400.0), (fan.Name, fan.Rpm!.Value));
        Assert.Equal(63.0, reading.MaxTemperatureC);
    }

    [Theory]
    [InlineData("x86_pkg_temp", 62.5)]
    [InlineData("coretemp", 63.0)]
    [InlineData("coretemp/Core 0", 58.0)]
    [InlineData("CoreTemp/core 0", 58.0)]
    [InlineData("thinkpad/temp1", 50.0)]
    [InlineData("amdgpu", null)]
    public void TemperatureFor_ConfiguredName_MatchesZoneTypeHwmonNameOrLabel(string configured, double? expected)
    {
        using var sysfs = FakeSysfs.Laptop();
        var reading = new ThermalReader(sysfs.Config, _time).Read();

        var sensors = new SensorConfig { Temperature = [configured] };

        Assert.Equal(expected, reading.TemperatureFor(sensors));
    }

    [Fact]
    public void TemperatureFor_SeveralNames_TakesTheHottest()
    {
        using var sysfs = FakeSysfs.Laptop();
        var reading = new ThermalReader(sysfs.Config, _time).Read();

        Assert.Equal(62.5, reading.TemperatureFor(ImmutableArray.Create("acpitz", "x86_pkg_temp", "missing")));
    }

    [Fact]
    public void Read_EmptyRoot_UnavailableWithReason()
    {
        using var sysfs = new FakeSysfs();

        var reading = new ThermalReader(sysfs.Config, _time).Read();

        Assert.False(reading.IsAvailable);
        Assert.Contains("no thermal zones or hwmon sensors", reading.UnavailableReason, StringComparison.Ordinal);
        Assert.Empty(reading.Temperatures);
        Assert.Null(reading.MaxTemperatureC);
    }

    [Theory]
    [InlineData("hot", "holds 'hot', not a number")]
    [InlineData("", "holds '', not a number")]
    [InlineData("-273150", "outside what a working sensor reports")]
    [InlineData("255000", "outside what a working sensor reports")]
    public void Read_BadZoneValue_ThatSensorUnavailableOthersRead(string content, string reasonPart)
    {
        using var sysfs = FakeSysfs.Laptop().Write("class/thermal/thermal_zone1/temp", content);

        var reading = new ThermalReader(sysfs.Config, _time).Read();

        var zone = reading.Temperatures.Single(t => t.Name == "x86_pkg_temp");
        Assert.False(zone.IsAvailable);
        Assert.Contains(reasonPart, zone.UnavailableReason, StringComparison.Ordinal);
        Assert.Equal(45.0, reading.Temperatures.Single(t => t.Name == "acpitz").Celsius);
        Assert.Null(reading.TemperatureFor(ImmutableArray.Create("x86_pkg_temp")));
    }

    [Fact]
    public void Read_MissingFiles_ZoneUnavailableAndLabelWithoutInputIgnored()
    {
        using var sysfs = FakeSysfs.Laptop()
            .Delete("class/thermal/thermal_zone0/temp")
            .Delete("class/hwmon/hwmon0/temp2_input")
            .Write("class/hwmon/hwmon0/temp3_label", "orphan label");

        var reading = new ThermalReader(sysfs.Config, _time).Read();

        var zone = reading.Temperatures.Single(t => t.Name == "acpitz");
        Assert.Null(zone.Celsius);
        Assert.EndsWith("thermal_zone0/temp does not exist", zone.UnavailableReason, StringComparison.Ordinal);
        Assert.DoesNotContain(reading.Temperatures, t => t.Name is "coretemp/Core 0" or "coretemp/orphan label");
        Assert.Equal(63.0, reading.MaxTemperatureC);
    }

    [Fact]
    public void Read_UnreadableFiles_UnavailableNeverThrows()
    {
        using var sysfs = FakeSysfs.Laptop();
        var access = new DenyingSysfsAccess(path => path.EndsWith("_input", StringComparison.Ordinal) || path.EndsWith("/temp", StringComparison.Ordinal));

        var reading = new ThermalReader(sysfs.Config, _time, access).Read();

        Assert.All(reading.Temperatures, t => Assert.Contains("permission denied", t.UnavailableReason, StringComparison.Ordinal));
        Assert.All(reading.Fans, f => Assert.False(f.IsAvailable));
        Assert.Null(reading.MaxTemperatureC);
    }

    [Fact]
    public void Read_ZoneWithoutType_NamedAfterItsDirectory()
    {
        using var sysfs = new FakeSysfs().Write("class/thermal/thermal_zone7/temp", "41000");

        var reading = new ThermalReader(sysfs.Config, _time).Read();

        Assert.Equal(("thermal_zone7", 41.0), (reading.Temperatures[0].Name, reading.Temperatures[0].Celsius!.Value));
    }

    [Fact]
    public void Read_TenChips_KeepsKernelNumbering()
    {
        using var sysfs = new FakeSysfs();
        for (var i = 0; i <= 10; i++)
        {
            sysfs.Write($"class/hwmon/hwmon{i}/name", $"chip{i}").Write($"class/hwmon/hwmon{i}/temp1_input", "40000");
        }

        var reading = new ThermalReader(sysfs.Config, _time).Read();

        Assert.Equal(Enumerable.Range(0, 11).Select(i => $"chip{i}/temp1"), reading.Temperatures.Select(t => t.Name));
    }

    [Fact]
    public void Read_TwoChipsWithOneName_NamesToldApartAndBothMatchTheChip()
    {
        using var sysfs = new FakeSysfs()
            .Write("class/hwmon/hwmon2/name", "nvme")
            .Write("class/hwmon/hwmon2/temp1_input", "38000")
            .Write("class/hwmon/hwmon2/temp1_label", "Composite")
            .Write("class/hwmon/hwmon3/name", "nvme")
            .Write("class/hwmon/hwmon3/temp1_input", "44000")
            .Write("class/hwmon/hwmon3/temp1_label", "Composite");

        var reading = new ThermalReader(sysfs.Config, _time).Read();

        Assert.Equal(["nvme/Composite", "nvme/Composite (hwmon3)"], reading.Temperatures.Select(t => t.Name));
        Assert.Equal(44.0, reading.TemperatureFor(ImmutableArray.Create("nvme")));
        Assert.Equal(44.0, reading.TemperatureFor(ImmutableArray.Create("nvme/Composite")));
    }
}
