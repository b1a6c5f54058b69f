using Router.Actors.Config;

namespace Router.Telemetry.Sensors;

/// <summary>
/// Takes one <see cref="SystemSample"/> from the Linux readers: sysfs synchronously (a few small
/// files), nvidia-smi within its time limit. Meant for one sampling loop (the state actors); the
/// RAPL reader inside keeps the previous counters, so two loops would halve each other's intervals.
/// </summary>
public sealed class SystemSampler : ISystemStateSource
{
    private readonly ThermalReader _thermal;
    private readonly ThrottleReader _throttle;
    private readonly PowerSupplyReader _power;
    private readonly RaplReader _rapl;
    private readonly NvidiaSmiReader? _nvidia;
    private readonly TimeProvider _time;

    public SystemSampler(TelemetryConfig config, TimeProvider timeProvider)
        : this(config, timeProvider, SysfsAccess.Instance, config?.NvidiaSmi == true ? new NvidiaSmiReader(timeProvider) : null)
    {
    }

    internal SystemSampler(TelemetryConfig config, TimeProvider timeProvider, ISysfsAccess access, NvidiaSmiReader? nvidia)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _thermal = new ThermalReader(config, timeProvider, access);
        _throttle = new ThrottleReader(config, timeProvider, access);
        _power = new PowerSupplyReader(config, timeProvider, access);
        _rapl = new RaplReader(config, timeProvider, access);
        _nvidia = nvidia;
        _time = timeProvider;
    }

    public async ValueTask<SystemSample> SampleAsync(CancellationToken cancellationToken = default)
    {
        var nvidiaTask = _nvidia?.ReadAsync(cancellationToken);
        var timestamp = _time.GetUtcNow();
        var thermal = _thermal.Read();
        var throttle = _throttle.Read();
        var power = _power.Read();
        var rapl = _rapl.Read();
        var nvidia = nvidiaTask is { } task
            ? await task.ConfigureAwait(false)
            : new NvidiaReading(timestamp, [], "nvidia-smi is disabled in the configuration", Absent: true);
        return new SystemSample(timestamp, thermal, throttle, power, rapl, nvidia);
    }
}
