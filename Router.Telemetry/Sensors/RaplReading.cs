using System.Collections.Immutable;

namespace Router.Telemetry.Sensors;

/// <summary>One RAPL power domain (<c>package-0</c>, <c>core</c>, <c>uncore</c> (the integrated GPU), <c>dram</c>, <c>psys</c>).</summary>
/// <param name="Name">The domain's <c>name</c> attribute.</param>
/// <param name="Zone">The powercap zone directory name, e.g. <c>intel-rapl:0:1</c>.</param>
/// <param name="EnergyJoules">Energy counted since this reader first saw the domain, with counter wrap-around undone; null when unreadable.</param>
/// <param name="Watts">Average power since the previous reading; null on the first reading or when unreadable.</param>
public sealed record RaplDomainReading(string Name, string Zone, double? EnergyJoules, double? Watts, string? UnavailableReason = null)
{
    public bool IsAvailable => UnavailableReason is null;
}

/// <summary>All RAPL domains at one instant, or why there are none.</summary>
/// <param name="PermissionDenied">The energy counters exist but only root may read them (Linux 5.10 and later).</param>
/// <param name="ReportDenial">True on the first reading that found the counters unreadable, and only then: the caller logs <see cref="UnavailableReason"/> once.</param>
public sealed record RaplReading(
    DateTimeOffset Timestamp,
    ImmutableArray<RaplDomainReading> Domains,
    string? UnavailableReason = null,
    bool PermissionDenied = false,
    bool ReportDenial = false)
{
    public bool IsAvailable => UnavailableReason is null;

    /// <summary>The domain with this <c>name</c> (first match) or zone directory name, or null.</summary>
    public RaplDomainReading? Domain(string nameOrZone)
    {
        foreach (var domain in Domains)
        {
            if (string.Equals(domain.Name, nameOrZone, StringComparison.OrdinalIgnoreCase)
                || string.Equals(domain.Zone, nameOrZone, StringComparison.Ordinal))
            {
                return domain;
            }
        }

        return null;
    }

    /// <summary>Sum of the <c>package-N</c> domains' power, or null.</summary>
    public double? PackageWatts => Sum("package-");

    /// <summary>The integrated GPU's power (<c>uncore</c> domains), or null where the CPU does not expose it.</summary>
    public double? GpuWatts => Sum("uncore");

    private double? Sum(string prefix)
    {
        double? sum = null;
        foreach (var domain in Domains)
        {
            if (domain.Watts is { } w && domain.Name.StartsWith(prefix, StringComparison.Ordinal))
            {
                sum = (sum ?? 0) + w;
            }
        }

        return sum;
    }
}
