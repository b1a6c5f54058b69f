using System.Collections.Immutable;
using System.Diagnostics;
using Router.Actors.Config;

namespace Router.Telemetry.Sensors;

/// <summary>
/// Reads RAPL energy counters through powercap (<c>class/powercap/intel-rapl:*/{name,energy_uj,max_energy_range_uj}</c>;
/// AMD CPUs use the same driver and names) and turns them into energy since start and average power
/// between readings. The counters wrap at <c>max_energy_range_uj</c>. Since Linux 5.10 (CVE-2020-8694)
/// <c>energy_uj</c> is readable only by root: the reading then says so, and flags it once for the log.
/// Stateful (the previous counter per domain); safe to call from several threads.
/// </summary>
public sealed class RaplReader
{
    public const string PermissionDeniedReason = "RAPL energy is readable only by root since Linux 5.10; falling back to estimates";

    private const double MicrojoulesPerJoule = 1e6;

    private readonly string _powercapDir;
    private readonly ISysfsAccess _access;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Counter> _counters = new(StringComparer.Ordinal);
    private bool _denialReported;

    public RaplReader(TelemetryConfig config, TimeProvider timeProvider)
        : this(config, timeProvider, SysfsAccess.Instance)
    {
    }

    internal RaplReader(TelemetryConfig config, TimeProvider timeProvider, ISysfsAccess access)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _powercapDir = Path.Combine(config.SysfsRoot, "class", "powercap");
        _access = access;
        _time = timeProvider;
    }

    public RaplReading Read()
    {
        // "intel-rapl:*" are the zones (intel-rapl:0) and subzones (intel-rapl:0:1); the bare
        // "intel-rapl" control type has no counter, and intel-rapl-mmio repeats the package zone.
        var zones = _access.List(_powercapDir, "intel-rapl:*");
        var now = _time.GetUtcNow();
        if (zones.Count == 0)
        {
            return new RaplReading(now, [], $"no RAPL domains under {_powercapDir}");
        }

        lock (_lock)
        {
            var domains = ImmutableArray.CreateBuilder<RaplDomainReading>(zones.Count);
            var denied = 0;
            foreach (var zoneDir in zones)
            {
                var domain = ReadDomain(zoneDir, now, out var wasDenied);
                denied += wasDenied ? 1 : 0;
                domains.Add(domain);
            }

            AssertInvariants();
            if (denied == zones.Count)
            {
                var report = !_denialReported;
                _denialReported = true;
                return new RaplReading(now, domains.ToImmutable(), PermissionDeniedReason, PermissionDenied: true, ReportDenial: report);
            }

            return new RaplReading(now, domains.ToImmutable());
        }
    }

    private RaplDomainReading ReadDomain(string zoneDir, DateTimeOffset now, out bool denied)
    {
        var zone = Path.GetFileName(zoneDir);
        var nameRead = _access.Read(Path.Combine(zoneDir, "name"));
        var name = nameRead.Ok && nameRead.Text.Length > 0 ? nameRead.Text : zone;

        var energyRead = _access.Read(Path.Combine(zoneDir, "energy_uj"));
        denied = energyRead.Status == SysfsStatus.Denied;
        if (!SysfsNames.TryParseLong(energyRead, out var microjoules, out var reason) || microjoules < 0)
        {
            _counters.Remove(zone);
            return new RaplDomainReading(name, zone, null, null, denied ? PermissionDeniedReason : reason.Length > 0 ? reason : $"{energyRead.Path} is negative");
        }

        long? range = SysfsNames.TryReadLong(_access, Path.Combine(zoneDir, "max_energy_range_uj"), out var max, out _) && max > 0 ? max : null;

        if (!_counters.TryGetValue(zone, out var previous))
        {
            _counters[zone] = new Counter(microjoules, 0, now);
            return new RaplDomainReading(name, zone, 0, null);
        }

        var delta = Delta(previous.Raw, microjoules, range);
        if (delta is not { } d)
        {
            // A counter that went back without a known range (or jumped past it): start over from here.
            _counters[zone] = new Counter(microjoules, previous.TotalMicrojoules, now);
            return new RaplDomainReading(name, zone, previous.TotalMicrojoules / MicrojoulesPerJoule, null);
        }

        var total = previous.TotalMicrojoules + d;
        _counters[zone] = new Counter(microjoules, total, now);
        var seconds = (now - previous.At).TotalSeconds;
        double? watts = seconds > 0 ? d / MicrojoulesPerJoule / seconds : null;
        return new RaplDomainReading(name, zone, total / MicrojoulesPerJoule, watts);
    }

    /// <summary>
    /// Microjoules between two raw counter values. The counter runs from 0 to <paramref name="range"/>
    /// and wraps to 0, so a smaller value means one wrap: (range - previous) + current. With no range
    /// known, a smaller value cannot be trusted. A delta beyond the range means a missed wrap.
    /// </summary>
    internal static long? Delta(long previous, long current, long? range)
    {
        if (current >= previous)
        {
            var forward = current - previous;
            return range is { } r && forward > r ? null : forward;
        }

        return range is { } max && previous <= max ? max - previous + current : null;
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(_lock.IsHeldByCurrentThread, "counters change under the lock");
        foreach (var counter in _counters.Values)
        {
            Debug.Assert(counter.Raw >= 0 && counter.TotalMicrojoules >= 0, "energy never runs backwards");
        }
    }

    private readonly record struct Counter(long Raw, double TotalMicrojoules, DateTimeOffset At);
}
