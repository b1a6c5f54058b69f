using System.Collections.Immutable;
using Router.Telemetry.Energy;
using Router.Telemetry.Sensors;

namespace Router.Tests.Telemetry.Energy;

public sealed class EnergyMeterTests
{
    private readonly Microsoft.Extensions.Time.Testing.FakeTimeProvider _time = TestClock.Create();

    [Theory]
    [InlineData(30.0, 60.0, 0.5)]
    [InlineData(3.0, 3600.0, 3.0)]
    [InlineData(55.0, 0.0, 0.0)]
    [InlineData(-5.0, 10.0, 0.0)]
    public void Estimate_PowerAndBusyTime_WattHours(double watts, double seconds, double expectedWh)
    {
        Assert.Equal(expectedWh, EnergyMeter.Estimate(watts, TimeSpan.FromSeconds(seconds)), 12);
    }

    [Fact]
    public void End_NoMeasuredSource_EstimatedFromConfiguredPower()
    {
        var meter = new EnergyMeter(_time);

        var span = meter.Begin("ollama-cpu", "package-0", configuredWatts: 30);
        _time.Advance(TimeSpan.FromMinutes(1));
        var energy = meter.End(span);

        Assert.Equal(EnergyBasis.Estimated, energy.Basis);
        Assert.Equal(0.5, energy.WattHours, 12);
        Assert.Equal(TimeSpan.FromMinutes(1), energy.BusyTime);
        Assert.Equal(new EnergyTotals(0, 0.5, 1), meter.GetTotals("ollama-cpu"));
    }

    [Fact]
    public void End_RaplSampledThroughout_MeasuredFromTheCounter()
    {
        var meter = new EnergyMeter(_time);
        meter.Observe(Sample(raplJoules: 100, raplWatts: 10));

        var span = meter.Begin("ollama-igpu", "uncore", configuredWatts: 12);
        _time.Advance(TimeSpan.FromSeconds(2));
        meter.Observe(Sample(raplJoules: 130, raplWatts: 15));
        _time.Advance(TimeSpan.FromSeconds(1));
        var energy = meter.End(span);

        // 30 J counted between samples, then 1 s at the latest 15 W: 45 J over 3 s.
        Assert.Equal(EnergyBasis.Measured, energy.Basis);
        Assert.Equal(45.0 / 3600, energy.WattHours, 12);
        Assert.Equal(15.0, energy.AverageWatts, 9);
        Assert.Equal(45.0 / 3600, meter.GetTotals("ollama-igpu").MeasuredWattHours, 12);
    }

    [Fact]
    public void End_ByZoneName_MeasuredToo()
    {
        var meter = new EnergyMeter(_time);
        meter.Observe(Sample(raplJoules: 0, raplWatts: 8));

        var span = meter.Begin("ollama-igpu", "intel-rapl:0:1", configuredWatts: 12);
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(EnergyBasis.Measured, meter.End(span).Basis);
    }

    [Fact]
    public void End_SamplesStale_FallsBackToEstimate()
    {
        var meter = new EnergyMeter(_time, maxSampleAge: TimeSpan.FromSeconds(5));
        meter.Observe(Sample(raplJoules: 0, raplWatts: 10));

        var span = meter.Begin("ollama-igpu", "uncore", configuredWatts: 12);
        _time.Advance(TimeSpan.FromSeconds(60));
        var energy = meter.End(span);

        Assert.Equal(EnergyBasis.Estimated, energy.Basis);
        Assert.Equal(EnergyMeter.Estimate(12, TimeSpan.FromSeconds(60)), energy.WattHours, 12);
    }

    [Fact]
    public void End_NvidiaSmi_IntegratesPowerBetweenSamples()
    {
        var meter = new EnergyMeter(_time);
        meter.Observe(Sample(gpuWatts: 40));
        var span = meter.Begin("ollama-nvidia", "nvidia-smi", configuredWatts: 55);

        _time.Advance(TimeSpan.FromSeconds(2));
        meter.Observe(Sample(gpuWatts: 60));
        var energy = meter.End(span);

        // Trapezoid: (40 + 60) / 2 W × 2 s = 100 J.
        Assert.Equal(EnergyBasis.Measured, energy.Basis);
        Assert.Equal(100.0 / 3600, energy.WattHours, 12);
    }

    [Fact]
    public void Measure_IntervalBeganBetweenEarlierSamples_InterpolatesTheCounter()
    {
        var meter = new EnergyMeter(_time);
        meter.Observe(Sample(raplJoules: 100, raplWatts: 10));
        _time.Advance(TimeSpan.FromSeconds(2));
        var busySince = _time.GetUtcNow() - TimeSpan.FromSeconds(1); // halfway between the first two samples
        meter.Observe(Sample(raplJoules: 120, raplWatts: 10));
        _time.Advance(TimeSpan.FromSeconds(2));
        meter.Observe(Sample(raplJoules: 160, raplWatts: 20));
        _time.Advance(TimeSpan.FromSeconds(1));

        var energy = meter.Measure("ollama-igpu", "uncore", configuredWatts: 12, busySince);

        // From 110 J (interpolated) to 160 J + 1 s at 20 W: 70 J over 4 s.
        Assert.Equal(EnergyBasis.Measured, energy.Basis);
        Assert.Equal(70.0 / 3600, energy.WattHours, 12);
        Assert.Equal(TimeSpan.FromSeconds(4), energy.BusyTime);
        Assert.Equal(17.5, energy.AverageWatts, 9);
        Assert.Equal(70.0 / 3600, meter.GetTotals("ollama-igpu").MeasuredWattHours, 12);
    }

    [Fact]
    public void Measure_IntervalBeganBeforeTheFirstSample_Estimated()
    {
        var meter = new EnergyMeter(_time);
        var busySince = _time.GetUtcNow();
        _time.Advance(TimeSpan.FromSeconds(1));
        meter.Observe(Sample(raplJoules: 100, raplWatts: 10));
        _time.Advance(TimeSpan.FromSeconds(1));

        var energy = meter.Measure("ollama-igpu", "uncore", configuredWatts: 12, busySince);

        Assert.Equal(EnergyBasis.Estimated, energy.Basis);
        Assert.Equal(EnergyMeter.Estimate(12, TimeSpan.FromSeconds(2)), energy.WattHours, 12);
    }

    [Fact]
    public void Measure_FirstRaplReadingHasNoPowerYet_AnchorsTheIntervalButCannotExtrapolate()
    {
        var meter = new EnergyMeter(_time);
        meter.Observe(Sample(raplJoules: 0, raplWatts: null));
        var busySince = _time.GetUtcNow();
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(EnergyBasis.Estimated, meter.Measure("ollama-igpu", "uncore", 12, busySince).Basis);

        meter.Observe(Sample(raplJoules: 9, raplWatts: 9));

        Assert.Equal(9.0 / 3600, meter.Measure("ollama-igpu", "uncore", 12, busySince).WattHours, 12);
    }

    [Fact]
    public async Task Add_ManyThreads_TotalsExact()
    {
        var meter = new EnergyMeter(_time);
        var measurement = new EnergyMeasurement("ollama-npu", 0.25, EnergyBasis.Estimated, TimeSpan.FromSeconds(300), 3);

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 1000; i++)
            {
                meter.Add(measurement);
            }
        })));

        Assert.Equal(new EnergyTotals(0, 1000, 4000), meter.GetTotals("ollama-npu"));
        Assert.Equal(1000, meter.GetAllTotals()["ollama-npu"].WattHours);
        Assert.Equal(default, meter.GetTotals("unknown"));
    }

    private SystemSample Sample(double? raplJoules = null, double? raplWatts = null, double? gpuWatts = null)
    {
        var now = _time.GetUtcNow();
        var sample = SystemSample.Unavailable(now, "test");
        if (raplJoules is { } joules)
        {
            sample = sample with
            {
                Rapl = new RaplReading(now, ImmutableArray.Create(new RaplDomainReading("uncore", "intel-rapl:0:1", joules, raplWatts))),
            };
        }

        if (gpuWatts is { } watts)
        {
            sample = sample with { Nvidia = new NvidiaReading(now, ImmutableArray.Create(new NvidiaGpuReading(0, 60, watts, 90, 40))) };
        }

        return sample;
    }
}
