using Microsoft.Extensions.Logging;
using Router.Actors.Config;
using Router.Telemetry.Energy;
using Router.Telemetry.Metrics;
using Router.Telemetry.Sensors;

namespace Router.Tests.Telemetry.Sensors;

public sealed class LinuxMachineSourceTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);
    private readonly Microsoft.Extensions.Time.Testing.FakeTimeProvider _time = TestClock.Create();

    private static readonly BackendConfig[] Backends =
    [
        new() { Id = "ollama-npu", Endpoint = new Uri("http://localhost:11434") },
        new() { Id = "ollama-igpu", Endpoint = new Uri("http://localhost:11435"), Sensors = new SensorConfig { Power = "uncore" } },
        new() { Id = "ollama-cpu", Endpoint = new Uri("http://localhost:11437"), Sensors = new SensorConfig { Temperature = ["x86_pkg_temp", "coretemp"], Power = "package-0" } },
        new() { Id = "ollama-off", Endpoint = new Uri("http://localhost:1"), Enabled = false, Sensors = new SensorConfig { Temperature = ["acpitz"] } },
    ];

    [Fact]
    public async Task ReadPowerThenThermal_OneSampleFeedsBoth()
    {
        using var sysfs = FakeSysfs.Laptop();
        var sampler = new CountingSampler(new SystemSampler(sysfs.Config, _time));
        var source = new LinuxMachineSource(sampler, Backends, _time, Interval);

        await source.ReadPowerAsync(default);
        await source.ReadThermalAsync(default);
        Assert.Equal(1, sampler.Count);

        // Each reader has had that sample: whichever asks next takes a new one, and the other shares it.
        await source.ReadThermalAsync(default);
        await source.ReadPowerAsync(default);
        Assert.Equal(2, sampler.Count);
    }

    [Fact]
    public async Task Read_SharedSampleOlderThanHalfTheInterval_TakesANewOne()
    {
        using var sysfs = FakeSysfs.Laptop();
        var sampler = new CountingSampler(new SystemSampler(sysfs.Config, _time));
        var source = new LinuxMachineSource(sampler, Backends, _time, Interval);

        await source.ReadPowerAsync(default);
        _time.Advance(TimeSpan.FromSeconds(1.5));
        await source.ReadThermalAsync(default);

        Assert.Equal(2, sampler.Count);
    }

    [Fact]
    public async Task Read_BothAtOnce_WaitForTheSampleBeingTaken()
    {
        var gate = new TaskCompletionSource<SystemSample>(TaskCreationOptions.RunContinuationsAsynchronously);
        var sampler = new CountingSampler(_ => gate.Task);
        var source = new LinuxMachineSource(sampler, Backends, _time, Interval);

        var power = source.ReadPowerAsync(default).AsTask();
        var thermal = source.ReadThermalAsync(default).AsTask();
        gate.SetResult(SystemSample.Unavailable(_time.GetUtcNow(), "test"));
        await Task.WhenAll(power, thermal).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(1, sampler.Count);
    }

    [Fact]
    public async Task Read_LaptopOnBattery_MapsAcBatteryTemperaturesAndFans()
    {
        using var sysfs = FakeSysfs.Laptop()
            .Write("class/power_supply/AC/online", "0")
            .Write("class/power_supply/BAT0/status", "Discharging")
            .Write("class/power_supply/BAT0/capacity", "15")
            .Write("class/power_supply/BAT0/energy_now", "7500000"); // 7.5 of 50 Wh
        var source = new LinuxMachineSource(sysfs.Config, Backends, _time);

        var power = await source.ReadPowerAsync(default);
        var thermal = await source.ReadThermalAsync(default);

        Assert.False(power.OnAcPower);
        Assert.Equal(15, power.BatteryPercent);
        Assert.Empty(power.MeasuredWattsByBackend); // RAPL has one counter so far, no power yet
        Assert.Equal(63, thermal.TemperatureByBackend["ollama-cpu"]);
        Assert.False(thermal.TemperatureByBackend.ContainsKey("ollama-npu"));
        Assert.False(thermal.TemperatureByBackend.ContainsKey("ollama-off"));
        Assert.Equal(63, thermal.MaxTemperatureC);
        Assert.False(thermal.Throttling);
        Assert.Equal(2400, thermal.FanRpm["thinkpad/fan1"]);
    }

    [Fact]
    public async Task Read_NoPowerSupplyAtAll_OnAcWithoutBattery()
    {
        using var sysfs = new FakeSysfs().Write("class/thermal/thermal_zone0/type", "acpitz").Write("class/thermal/thermal_zone0/temp", "40000");
        var source = new LinuxMachineSource(sysfs.Config, Backends, _time);

        var power = await source.ReadPowerAsync(default);

        Assert.True(power.OnAcPower);
        Assert.Null(power.BatteryPercent);
    }

    [Fact]
    public async Task Read_SecondSample_MeasuredWattsAndThrottlingSinceThePrevious()
    {
        using var sysfs = FakeSysfs.Laptop();
        var source = new LinuxMachineSource(sysfs.Config, Backends, _time);
        await source.ReadPowerAsync(default);
        await source.ReadThermalAsync(default);

        sysfs.Write("class/powercap/intel-rapl:0/energy_uj", "21000000");   // +20 J
        sysfs.Write("class/powercap/intel-rapl:0:1/energy_uj", "6200000");  // +6 J
        sysfs.Write("devices/system/cpu/cpu1/thermal_throttle/core_throttle_count", "3");
        _time.Advance(Interval);
        var power = await source.ReadPowerAsync(default);
        var thermal = await source.ReadThermalAsync(default);

        Assert.Equal(10, power.MeasuredWattsByBackend["ollama-cpu"], 9);
        Assert.Equal(3, power.MeasuredWattsByBackend["ollama-igpu"], 9);
        Assert.False(power.MeasuredWattsByBackend.ContainsKey("ollama-npu"));
        Assert.True(thermal.Throttling);

        // Counters that stand still: the throttling is over.
        _time.Advance(Interval);
        Assert.False((await source.ReadThermalAsync(default)).Throttling);
    }

    [Fact]
    public async Task Read_EverySample_FeedsTheEnergyMeterAndTheGauges()
    {
        using var sysfs = FakeSysfs.Laptop();
        var energy = new EnergyMeter(_time);
        var state = new RouterMetricsState();
        using var metrics = new RouterMetrics(state);
        var source = new LinuxMachineSource(sysfs.Config, Backends, _time, energy, state);

        await source.ReadPowerAsync(default);
        var busySince = _time.GetUtcNow();
        sysfs.Write("class/powercap/intel-rapl:0/energy_uj", "21000000");
        _time.Advance(Interval);
        await source.ReadPowerAsync(default);
        var measured = energy.Measure("ollama-cpu", "package-0", 28, busySince);

        Assert.Equal(EnergyBasis.Measured, measured.Basis);
        Assert.Equal(20.0 / 3600, measured.WattHours, 12);
        var text = await Router.Tests.Telemetry.Metrics.RouterMetricsTests.ScrapeAsync(metrics);
        Assert.Contains("ollama_proxy_battery_charge_percent 76\n", text, StringComparison.Ordinal);
        Assert.Contains("ollama_proxy_temperature_celsius{sensor=\"x86_pkg_temp\"} 62.5\n", text, StringComparison.Ordinal);
        Assert.Contains("ollama_proxy_power_watts{source=\"package-0\"} 10\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_RaplDenied_LoggedOnceEvenBeforeTheLoggerArrives()
    {
        using var sysfs = FakeSysfs.Laptop();
        var access = new DenyingSysfsAccess(path => path.EndsWith("energy_uj", StringComparison.Ordinal));
        var sampler = new SystemSampler(sysfs.Config, _time, access, nvidia: null);
        var source = new LinuxMachineSource(sampler, Backends, _time, Interval);

        for (var i = 0; i < 3; i++)
        {
            _time.Advance(Interval);
            await source.ReadPowerAsync(default);
        }

        var logger = new ListLogger();
        source.UseLogger(logger);
        _time.Advance(Interval);
        await source.ReadPowerAsync(default);

        var denial = Assert.Single(logger.Entries, e => e.Level == LogLevel.Warning);
        Assert.Equal(3001, denial.Id.Id);
        Assert.Contains("readable only by root", denial.Message, StringComparison.Ordinal);
        Assert.Single(logger.Entries, e => e.Id.Id == 3000);
    }

    [Fact]
    public async Task Read_SamplerThrows_EveryWaitingReaderSeesItAndTheNextReadSamplesAgain()
    {
        var fail = true;
        var sampler = new CountingSampler(_ => fail
            ? Task.FromException<SystemSample>(new IOException("boom"))
            : Task.FromResult(SystemSample.Unavailable(_time.GetUtcNow(), "test")));
        var source = new LinuxMachineSource(sampler, Backends, _time, Interval);

        await Assert.ThrowsAsync<IOException>(async () => await source.ReadPowerAsync(default));
        fail = false;
        var power = await source.ReadPowerAsync(default);

        Assert.True(power.OnAcPower);
        Assert.Equal(2, sampler.Count);
    }

    private sealed class CountingSampler(Func<CancellationToken, Task<SystemSample>> sample) : ISystemStateSource
    {
        private int _count;

        public CountingSampler(ISystemStateSource inner)
            : this(ct => inner.SampleAsync(ct).AsTask())
        {
        }

        public int Count => Volatile.Read(ref _count);

        public ValueTask<SystemSample> SampleAsync(CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _count);
            return new ValueTask<SystemSample>(sample(cancellationToken));
        }
    }
}

/// <summary>Keeps every entry, for assertions on what was logged.</summary>
internal sealed class ListLogger : ILogger
{
    private readonly List<(LogLevel Level, EventId Id, string Message)> _entries = [];

    public IReadOnlyList<(LogLevel Level, EventId Id, string Message)> Entries
    {
        get
        {
            lock (_entries)
            {
                return _entries.ToArray();
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_entries)
        {
            _entries.Add((logLevel, eventId, formatter(state, exception)));
        }
    }
}
