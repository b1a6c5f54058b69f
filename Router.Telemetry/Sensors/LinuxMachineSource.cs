using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Router.Actors.Config;
using Router.Actors.State;
using Router.Telemetry.Energy;
using Router.Telemetry.Metrics;
using CoreThermalReading = Router.Actors.State.ThermalReading;

namespace Router.Telemetry.Sensors;

/// <summary>
/// The real machine for the power and thermal actors: one <see cref="SystemSample"/> from the sysfs
/// readers (and nvidia-smi) feeds both readings, mapped onto the backends through each backend's
/// <c>sensors</c> (temperature names; <c>power</c> = a RAPL domain or <c>nvidia-smi</c>). Every new
/// sample also goes to the energy meter and the metrics.
/// </summary>
/// <remarks>
/// <para>
/// Sharing: the two actors sample on the same schedule, and RAPL power and throttling are
/// differences between consecutive samples, so two samples a few milliseconds apart would make
/// both meaningless. Each sample is therefore handed to each reader once: a reader that has not
/// yet seen the latest sample, and finds it younger than half the sample interval, gets it; a
/// reader that has seen it takes a new one; a reader that arrives while a sample is being taken
/// waits for that one.
/// </para>
/// <para>
/// Mapping: AC comes from the adapters, else from whether a battery discharges; a machine with
/// neither is on AC with no battery. Throttling means a throttle counter rose since the previous
/// sample. Fans are keyed by their sensor name (<c>chip/label</c>). The RAPL permission denial
/// (Linux 5.10 and later, not root) is logged once; energy then falls back to estimates.
/// </para>
/// </remarks>
public sealed partial class LinuxMachineSource : IPowerSource, IThermalSource
{
    private readonly ISystemStateSource _sampler;
    private readonly ImmutableArray<(string BackendId, SensorConfig Sensors)> _backends;
    private readonly TimeProvider _time;
    private readonly TimeSpan _shareFor;
    private readonly EnergyMeter? _energy;
    private readonly RouterMetricsState? _metrics;
    private readonly string _describedRoot;

    private readonly Lock _lock = new();
    // Guarded by _lock.
    private Snapshot? _latest;
    private Task<Snapshot>? _sampling;
    private long _powerSeen;
    private long _thermalSeen;
    private ILogger? _logger;
    private List<Action<ILogger>>? _pendingLogs;

    // Only the reader that takes a sample touches these, and one sample is taken at a time.
    private ThrottleReading? _previousThrottle;
    private long _sequence;

    /// <summary>Reads the machine under <see cref="TelemetryConfig.SysfsRoot"/> (and nvidia-smi when <see cref="TelemetryConfig.NvidiaSmi"/>).</summary>
    /// <param name="backends">The configured backends; the enabled ones get readings.</param>
    /// <param name="energy">Fed every new sample, for measured energy per request.</param>
    /// <param name="metrics">Fed every new sample: temperatures, fans, battery, AC, measured power.</param>
    /// <param name="logger">Where the one-time notes go; may also be given later (<see cref="UseLogger"/>).</param>
    public LinuxMachineSource(TelemetryConfig config, IEnumerable<BackendConfig> backends, TimeProvider timeProvider,
        EnergyMeter? energy = null, RouterMetricsState? metrics = null, ILogger? logger = null)
        : this(new SystemSampler(config ?? throw new ArgumentNullException(nameof(config)), timeProvider), backends, timeProvider,
            config.SampleInterval, energy, metrics, logger, config.SysfsRoot)
    {
    }

    /// <summary>Over any sample source (tests, and later UPower over D-Bus).</summary>
    /// <param name="sampleInterval">The actors' interval: a sample younger than half of it is shared.</param>
    public LinuxMachineSource(ISystemStateSource sampler, IEnumerable<BackendConfig> backends, TimeProvider timeProvider, TimeSpan sampleInterval,
        EnergyMeter? energy = null, RouterMetricsState? metrics = null, ILogger? logger = null)
        : this(sampler, backends, timeProvider, sampleInterval, energy, metrics, logger, "the configured sample source")
    {
    }

    private LinuxMachineSource(ISystemStateSource sampler, IEnumerable<BackendConfig> backends, TimeProvider timeProvider, TimeSpan sampleInterval,
        EnergyMeter? energy, RouterMetricsState? metrics, ILogger? logger, string describedRoot)
    {
        ArgumentNullException.ThrowIfNull(sampler);
        ArgumentNullException.ThrowIfNull(backends);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _sampler = sampler;
        _time = timeProvider;
        _shareFor = sampleInterval > TimeSpan.Zero ? sampleInterval / 2 : TimeSpan.FromSeconds(1);
        _energy = energy;
        _metrics = metrics;
        _logger = logger;
        _describedRoot = describedRoot;

        var mapped = ImmutableArray.CreateBuilder<(string, SensorConfig)>();
        foreach (var backend in backends)
        {
            if (backend.Enabled)
            {
                mapped.Add((backend.Id, backend.Sensors ?? new SensorConfig()));
            }
        }

        _backends = mapped.ToImmutable();
    }

    /// <summary>
    /// Sets the logger. The daemon's logger exists only once its web host is built, after the
    /// actors (and so the first sample) have started: notes from before are written now.
    /// </summary>
    public void UseLogger(ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(logger);
        List<Action<ILogger>>? pending;
        lock (_lock)
        {
            _logger = logger;
            pending = _pendingLogs;
            _pendingLogs = null;
        }

        foreach (var write in pending ?? [])
        {
            write(logger);
        }
    }

    public async ValueTask<PowerReading> ReadPowerAsync(CancellationToken cancellationToken) =>
        (await LatestForAsync(Reader.Power, cancellationToken).ConfigureAwait(false)).Power;

    public async ValueTask<CoreThermalReading> ReadThermalAsync(CancellationToken cancellationToken) =>
        (await LatestForAsync(Reader.Thermal, cancellationToken).ConfigureAwait(false)).Thermal;

    /// <summary>The power reading of a sample: AC, battery, and measured watts per backend whose <c>sensors.power</c> names a measured source.</summary>
    internal PowerReading ToPowerReading(SystemSample sample)
    {
        var watts = ImmutableDictionary.CreateBuilder<string, double>(StringComparer.Ordinal);
        foreach (var (backend, sensors) in _backends)
        {
            if (sample.PowerWattsFor(sensors) is { } w)
            {
                watts[backend] = w;
            }
        }

        return new PowerReading(sample.Power.OnAcPower, sample.Power.BatteryPercent, watts.ToImmutable(), sample.Timestamp)
        {
            TimeToEmpty = TimeToEmpty(sample.Power),
        };
    }

    /// <summary>Remaining energy over the present draw while the battery discharges (as UPower works it out); else null.</summary>
    internal static TimeSpan? TimeToEmpty(PowerSupplyReading power) =>
        power.BatteryStatus == BatteryStatus.Discharging && power.BatteryEnergyWh is { } energy && power.BatteryPowerWatts is > 0 and var watts
            ? TimeSpan.FromHours(energy / watts)
            : null;

    /// <summary>The thermal reading of a sample: each backend's device temperature, the hottest sensor, throttling since <paramref name="previousThrottle"/>, fans.</summary>
    internal CoreThermalReading ToThermalReading(SystemSample sample, ThrottleReading? previousThrottle)
    {
        var temperatures = ImmutableDictionary.CreateBuilder<string, double>(StringComparer.Ordinal);
        foreach (var (backend, sensors) in _backends)
        {
            if (sample.TemperatureFor(sensors) is { } c)
            {
                temperatures[backend] = c;
            }
        }

        var fans = ImmutableDictionary.CreateBuilder<string, double>(StringComparer.Ordinal);
        foreach (var fan in sample.Thermal.Fans)
        {
            if (fan.Rpm is { } rpm)
            {
                fans[fan.Name] = rpm;
            }
        }

        return new CoreThermalReading(temperatures.ToImmutable(), sample.MaxTemperatureC, sample.Throttle.IsThrottlingSince(previousThrottle), fans.ToImmutable(), sample.Timestamp);
    }

    /// <summary>
    /// The latest sample if <paramref name="reader"/> has not had it and it is fresh; the sample
    /// being taken if there is one; else a new sample.
    /// </summary>
    private async ValueTask<Snapshot> LatestForAsync(Reader reader, CancellationToken cancellationToken)
    {
        TaskCompletionSource<Snapshot>? owner = null;
        Task<Snapshot> pending;
        lock (_lock)
        {
            if (_latest is { } latest && latest.Sequence > Seen(reader) && _time.GetUtcNow() - latest.Sample.Timestamp <= _shareFor)
            {
                MarkSeen(reader, latest.Sequence);
                return latest;
            }

            if (_sampling is { } running)
            {
                pending = running;
            }
            else
            {
                owner = new TaskCompletionSource<Snapshot>(TaskCreationOptions.RunContinuationsAsynchronously);
                pending = _sampling = owner.Task;
            }
        }

        if (owner is not null)
        {
            await TakeSampleAsync(owner, cancellationToken).ConfigureAwait(false);
        }

        var snapshot = await pending.WaitAsync(cancellationToken).ConfigureAwait(false);
        lock (_lock)
        {
            MarkSeen(reader, snapshot.Sequence);
        }

        return snapshot;
    }

    /// <summary>Takes one sample, publishes it as the latest, and feeds the meter and the metrics. Never throws: a failure completes <paramref name="owner"/> with it.</summary>
    private async Task TakeSampleAsync(TaskCompletionSource<Snapshot> owner, CancellationToken cancellationToken)
    {
        Snapshot snapshot;
        try
        {
            var sample = await _sampler.SampleAsync(cancellationToken).ConfigureAwait(false);
            var thermal = ToThermalReading(sample, _previousThrottle);
            _previousThrottle = sample.Throttle.IsAvailable ? sample.Throttle : null;
            snapshot = new Snapshot(++_sequence, sample, ToPowerReading(sample), thermal);
            _energy?.Observe(sample);
            _metrics?.UpdateSample(sample);
        }
#pragma warning disable CA1031 // Handed to every waiting reader; the sampling actor counts it as a missed sample.
        catch (Exception e)
#pragma warning restore CA1031
        {
            lock (_lock)
            {
                _sampling = null;
            }

            owner.SetException(e);
            return;
        }

        lock (_lock)
        {
            _latest = snapshot;
            _sampling = null;
        }

        owner.SetResult(snapshot);
        Note(snapshot);
    }

    /// <summary>The one-time log notes: what the first sample found, and the RAPL permission denial.</summary>
    private void Note(Snapshot snapshot)
    {
        var sample = snapshot.Sample;
        if (snapshot.Sequence == 1)
        {
            var root = _describedRoot;
            WriteLog(logger => Log.FirstSample(logger, root,
                CountAvailable(sample.Thermal.Temperatures), CountAvailable(sample.Thermal.Fans),
                sample.Power.HasBattery ? $"{sample.Power.BatteryPercent:0.#}%" : "none",
                sample.Power.OnAcPower,
                sample.Rapl.IsAvailable ? sample.Rapl.Domains.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) : "unavailable",
                sample.Nvidia.IsAvailable ? sample.Nvidia.Gpus.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) : "unavailable"));
        }

        if (sample.Rapl.ReportDenial)
        {
            var reason = sample.Rapl.UnavailableReason ?? RaplReader.PermissionDeniedReason;
            WriteLog(logger => Log.RaplDenied(logger, reason));
        }
    }

    private void WriteLog(Action<ILogger> write)
    {
        ILogger? logger;
        lock (_lock)
        {
            logger = _logger;
            if (logger is null)
            {
                (_pendingLogs ??= []).Add(write);
                return;
            }
        }

        write(logger);
    }

    private static int CountAvailable(ImmutableArray<TemperatureSensor> sensors)
    {
        var count = 0;
        foreach (var sensor in sensors)
        {
            count += sensor.IsAvailable ? 1 : 0;
        }

        return count;
    }

    private static int CountAvailable(ImmutableArray<FanSensor> fans)
    {
        var count = 0;
        foreach (var fan in fans)
        {
            count += fan.IsAvailable ? 1 : 0;
        }

        return count;
    }

    private long Seen(Reader reader) => reader == Reader.Power ? _powerSeen : _thermalSeen;

    private void MarkSeen(Reader reader, long sequence)
    {
        if (reader == Reader.Power)
        {
            _powerSeen = Math.Max(_powerSeen, sequence);
        }
        else
        {
            _thermalSeen = Math.Max(_thermalSeen, sequence);
        }
    }

    private enum Reader
    {
        Power,
        Thermal,
    }

    /// <summary>One sample and both readings made from it.</summary>
    private sealed record Snapshot(long Sequence, SystemSample Sample, PowerReading Power, CoreThermalReading Thermal);
}
