using Router.Actors.Config;
using Router.Telemetry.Sensors;

namespace Router.Tests.Telemetry.Sensors;

public sealed class SystemSamplerTests
{
    private readonly Microsoft.Extensions.Time.Testing.FakeTimeProvider _time = TestClock.Create();

    [Fact]
    public async Task SampleAsync_LaptopTree_CombinesEveryReader()
    {
        using var sysfs = FakeSysfs.Laptop();
        ISystemStateSource source = new SystemSampler(sysfs.Config, _time);

        var sample = await source.SampleAsync();

        Assert.Equal(_time.GetUtcNow(), sample.Timestamp);
        Assert.Equal(63.0, sample.MaxTemperatureC);
        Assert.Equal(25L, sample.Throttle.Total);
        Assert.True(sample.Power.OnAcPower);
        Assert.Equal(76.0, sample.Power.BatteryPercent);
        Assert.Equal(3, sample.Rapl.Domains.Length);
        Assert.True(sample.Nvidia.Absent);
        Assert.Equal("nvidia-smi is disabled in the configuration", sample.Nvidia.UnavailableReason);
    }

    [Fact]
    public async Task SampleAsync_SecondSample_MeasuredPowerPerConfiguredSource()
    {
        using var sysfs = FakeSysfs.Laptop();
        using var smi = new FakeExecutable("nvidia-smi", "echo '71, 48.5, 90, 55'");
        var sampler = new SystemSampler(sysfs.Config, _time, SysfsAccess.Instance, new NvidiaSmiReader(_time, smi.Path, TimeSpan.FromSeconds(10)));
        await sampler.SampleAsync();
        sysfs.Write("class/powercap/intel-rapl:0:1/energy_uj", "6200000");
        _time.Advance(TimeSpan.FromSeconds(2));

        var sample = await sampler.SampleAsync();

        Assert.Equal(3.0, sample.PowerWattsFor(new SensorConfig { Power = "uncore" }));
        Assert.Equal(48.5, sample.PowerWattsFor(new SensorConfig { Power = "nvidia-smi" }));
        Assert.Null(sample.PowerWattsFor(new SensorConfig()));
        Assert.Equal(71.0, sample.TemperatureFor(new SensorConfig { Power = "nvidia-smi" }));
        Assert.Equal(62.5, sample.TemperatureFor(new SensorConfig { Temperature = ["x86_pkg_temp"], Power = "package-0" }));
        Assert.Equal(71.0, sample.MaxTemperatureC);
    }

    [Fact]
    public async Task SampleAsync_EmptyMachine_EveryPartUnavailableNoThrow()
    {
        using var sysfs = new FakeSysfs();
        var sampler = new SystemSampler(sysfs.Config, _time);

        var sample = await sampler.SampleAsync();

        Assert.False(sample.Thermal.IsAvailable);
        Assert.False(sample.Throttle.IsAvailable);
        Assert.False(sample.Power.IsAvailable);
        Assert.False(sample.Rapl.IsAvailable);
        Assert.Null(sample.MaxTemperatureC);
        Assert.True(sample.Power.OnAcPower);
    }
}
