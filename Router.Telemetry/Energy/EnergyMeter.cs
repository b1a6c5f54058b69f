using System.Collections.Concurrent;
using System.Diagnostics;
using Router.Telemetry.Sensors;

namespace Router.Telemetry.Energy;

/// <summary>
/// Energy per request and totals per backend. The state actors feed it samples
/// (<see cref="Observe"/>); each request opens a span when it starts being served and closes it when
/// it finishes. Where the backend's device has a measured power source that has been sampled
/// recently at both ends, the energy is the source's energy counter over the interval (RAPL's own
/// counter; nvidia-smi's power integrated between samples and extrapolated at the latest power to the
/// instant). Otherwise it is estimated as configured power × busy time.
/// </summary>
/// <remarks>
/// A measured figure is the device's energy over the interval: requests served at the same time on
/// one device each see the whole of it, and idle power is included. Thread-safe: one sampler writes,
/// any number of request paths read; both sides are a dictionary lookup and a few arithmetic steps.
/// </remarks>
public sealed class EnergyMeter
{
    private const double SecondsPerHour = 3600;
    private static readonly TimeSpan DefaultMaxSampleAge = TimeSpan.FromSeconds(10);

    private readonly TimeProvider _time;
    private readonly TimeSpan _maxSampleAge;
    private readonly ConcurrentDictionary<string, PowerTrack> _tracks = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, TotalsCell> _totals = new(StringComparer.Ordinal);

    /// <param name="maxSampleAge">How old the latest sample of a source may be for it to count as measuring (default 10 s, five sample intervals).</param>
    public EnergyMeter(TimeProvider timeProvider, TimeSpan? maxSampleAge = null)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        _time = timeProvider;
        _maxSampleAge = maxSampleAge ?? DefaultMaxSampleAge;
    }

    /// <summary>Energy of <paramref name="watts"/> drawn for <paramref name="busy"/>, in watt-hours.</summary>
    public static double Estimate(double watts, TimeSpan busy) =>
        Math.Max(0, watts) * Math.Max(0, busy.TotalSeconds) / SecondsPerHour;

    /// <summary>Takes the measured power sources from a sample: every RAPL domain (by name and zone) and nvidia-smi.</summary>
    public void Observe(SystemSample sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        foreach (var domain in sample.Rapl.Domains)
        {
            if (domain.EnergyJoules is { } joules && domain.Watts is { } watts)
            {
                var track = new PowerTrack(sample.Rapl.Timestamp, joules, watts);
                _tracks[domain.Zone] = track;

                // Names repeat across packages ("core" under each); the name means the first, as in RaplReading.Domain.
                if (ReferenceEquals(sample.Rapl.Domain(domain.Name), domain))
                {
                    _tracks[domain.Name] = track;
                }
            }
        }

        if (sample.Nvidia.PowerWatts is { } gpuWatts)
        {
            var at = sample.Nvidia.Timestamp;
            _tracks.AddOrUpdate(
                SystemSample.NvidiaSmiPowerSource,
                static (_, state) => new PowerTrack(state.at, 0, state.gpuWatts),
                static (_, previous, state) =>
                {
                    // Trapezoid between the two power readings.
                    var seconds = Math.Max(0, (state.at - previous.At).TotalSeconds);
                    return new PowerTrack(state.at, previous.Joules + (previous.Watts + state.gpuWatts) / 2 * seconds, state.gpuWatts);
                },
                (at, gpuWatts));
        }
    }

    /// <summary>Opens a request's busy interval now.</summary>
    public EnergySpan Begin(string backendId, string? powerSource, double configuredWatts)
    {
        ArgumentNullException.ThrowIfNull(backendId);
        var now = _time.GetUtcNow();
        return new EnergySpan(backendId, powerSource, configuredWatts, now, JoulesAt(powerSource, now));
    }

    /// <summary>Closes a busy interval now, adds its energy to the backend's totals and returns it.</summary>
    public EnergyMeasurement End(in EnergySpan span)
    {
        var now = _time.GetUtcNow();
        var busy = now - span.Start;
        if (busy < TimeSpan.Zero)
        {
            busy = TimeSpan.Zero;
        }

        EnergyMeasurement measurement;
        if (span.StartJoules is { } startJ && JoulesAt(span.PowerSource, now) is { } endJ && endJ >= startJ)
        {
            var wh = (endJ - startJ) / SecondsPerHour;
            var seconds = busy.TotalSeconds;
            measurement = new EnergyMeasurement(span.BackendId, wh, EnergyBasis.Measured, busy, seconds > 0 ? (endJ - startJ) / seconds : 0);
        }
        else
        {
            measurement = new EnergyMeasurement(span.BackendId, Estimate(span.ConfiguredWatts, busy), EnergyBasis.Estimated, busy, span.ConfiguredWatts);
        }

        Add(measurement);
        return measurement;
    }

    /// <summary>Adds a figure computed elsewhere (a backend that reports its own energy) to the totals.</summary>
    public void Add(in EnergyMeasurement measurement)
    {
        var cell = _totals.GetOrAdd(measurement.BackendId, static _ => new TotalsCell());
        cell.Add(measurement.WattHours, measurement.Basis);
    }

    public EnergyTotals GetTotals(string backendId)
    {
        ArgumentNullException.ThrowIfNull(backendId);
        return _totals.TryGetValue(backendId, out var cell) ? cell.Read() : default;
    }

    /// <summary>Totals of every backend that has used energy, by backend id.</summary>
    public IReadOnlyDictionary<string, EnergyTotals> GetAllTotals()
    {
        var result = new Dictionary<string, EnergyTotals>(StringComparer.Ordinal);
        foreach (var (id, cell) in _totals)
        {
            result[id] = cell.Read();
        }

        return result;
    }

    /// <summary>The source's energy counter at <paramref name="at"/>, or null when it is not measuring.</summary>
    private double? JoulesAt(string? powerSource, DateTimeOffset at)
    {
        if (string.IsNullOrEmpty(powerSource) || !_tracks.TryGetValue(powerSource, out var track))
        {
            return null;
        }

        var age = at - track.At;
        if (age > _maxSampleAge)
        {
            return null;
        }

        // Between samples the device draws what it drew at the latest one.
        return track.Joules + track.Watts * Math.Max(0, age.TotalSeconds);
    }

    /// <summary>Immutable, so a reader sees one sample's values together.</summary>
    private sealed record PowerTrack(DateTimeOffset At, double Joules, double Watts);

    private sealed class TotalsCell
    {
        private readonly Lock _lock = new();
        private double _measured;
        private double _estimated;
        private long _requests;

        public void Add(double wattHours, EnergyBasis basis)
        {
            lock (_lock)
            {
                if (basis == EnergyBasis.Measured)
                {
                    _measured += wattHours;
                }
                else
                {
                    _estimated += wattHours;
                }

                _requests++;
                AssertInvariants();
            }
        }

        [Conditional("DEBUG")]
        private void AssertInvariants()
        {
            Debug.Assert(_lock.IsHeldByCurrentThread, "totals change under the lock");
            Debug.Assert(_measured >= 0 && _estimated >= 0 && _requests > 0, "energy and request counts only grow");
        }

        public EnergyTotals Read()
        {
            lock (_lock)
            {
                return new EnergyTotals(_measured, _estimated, _requests);
            }
        }
    }
}
