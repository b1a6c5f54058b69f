using Router.Actors.Config;

namespace Router.Telemetry.Sensors;

/// <summary>
/// CPU thermal throttle counters summed over all CPUs. The counts only grow, so a count that rose
/// since the previous reading means the CPU throttled in between (<see cref="IsThrottlingSince"/>).
/// </summary>
/// <param name="CoreCount">Sum of <c>core_throttle_count</c>, or null when none is readable.</param>
/// <param name="PackageCount">Sum of <c>package_throttle_count</c> (each CPU repeats its package's count), or null.</param>
public sealed record ThrottleReading(DateTimeOffset Timestamp, long? CoreCount, long? PackageCount, string? UnavailableReason = null)
{
    public bool IsAvailable => UnavailableReason is null;

    /// <summary>Both sums together, or null when unavailable.</summary>
    public long? Total => CoreCount is null && PackageCount is null ? null : (CoreCount ?? 0) + (PackageCount ?? 0);

    /// <summary>True when a counter rose since <paramref name="previous"/>; false when either reading is unavailable.</summary>
    public bool IsThrottlingSince(ThrottleReading? previous) =>
        previous?.Total is { } before && Total is { } now && now > before;
}

/// <summary>Reads <c>devices/system/cpu/cpuN/thermal_throttle/{core,package}_throttle_count</c> (Intel; absent elsewhere).</summary>
public sealed class ThrottleReader
{
    private readonly string _cpuDir;
    private readonly ISysfsAccess _access;
    private readonly TimeProvider _time;

    public ThrottleReader(TelemetryConfig config, TimeProvider timeProvider)
        : this(config, timeProvider, SysfsAccess.Instance)
    {
    }

    internal ThrottleReader(TelemetryConfig config, TimeProvider timeProvider, ISysfsAccess access)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _cpuDir = Path.Combine(config.SysfsRoot, "devices", "system", "cpu");
        _access = access;
        _time = timeProvider;
    }

    public ThrottleReading Read()
    {
        long? core = null;
        long? package = null;
        string? lastReason = null;
        foreach (var cpu in _access.List(_cpuDir, "cpu*"))
        {
            // cpufreq and cpuidle live beside cpu0..cpuN.
            if (SysfsNames.IndexAfter(Path.GetFileName(cpu), "cpu") < 0)
            {
                continue;
            }

            var throttle = Path.Combine(cpu, "thermal_throttle");
            Add(Path.Combine(throttle, "core_throttle_count"), ref core, ref lastReason);
            Add(Path.Combine(throttle, "package_throttle_count"), ref package, ref lastReason);
        }

        var now = _time.GetUtcNow();
        if (core is null && package is null)
        {
            return new ThrottleReading(now, null, null, lastReason is null
                ? $"no thermal_throttle counters under {_cpuDir} (not an Intel CPU, or not exposed)"
                : $"no readable thermal_throttle counter; last failure: {lastReason}");
        }

        return new ThrottleReading(now, core, package);
    }

    private void Add(string path, ref long? sum, ref string? lastReason)
    {
        var read = _access.Read(path);
        if (SysfsNames.TryParseLong(read, out var count, out var reason))
        {
            sum = (sum ?? 0) + count;
        }
        else if (read.Status != SysfsStatus.Missing)
        {
            lastReason = reason;
        }
    }
}
