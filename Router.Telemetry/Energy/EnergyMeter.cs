using System.Collections.Concurrent;
using System.Diagnostics;
using Router.Telemetry.Sensors;

namespace Router.Telemetry.Energy;

/// <summary>
/// Energy per request and totals per backend. The sampler feeds it samples (<see cref="Observe"/>);
/// a request's energy is taken over its busy interval, either as a span (<see cref="Begin"/> and
/// <see cref="End"/>) or after the fact (<see cref="Measure"/>, from when the slot was granted to
/// now). Where the backend's device has a measured power source that was sampled throughout the
/// interval, the energy is that source's energy counter over it (RAPL's own counter; nvidia-smi's
/// power integrated between samples), interpolated between samples and extrapolated past the latest
/// one at its power. Otherwise it is estimated as configured power × busy time.
/// </summary>
/// <remarks>
/// A measured figure is the device's energy over the interval: requests served at the same time on
/// one device each see the whole of it, and idle power is included. Each source keeps a short history
/// of samples (<see cref="HistoryLength"/>; 17 minutes at the default 2 s interval), so an interval
/// that began before the latest sample is still measured. Thread-safe: one sampler writes, any number
/// of request paths read.
/// </remarks>
public sealed class EnergyMeter
{
    /// <summary>Samples kept per power source.</summary>
    public const int HistoryLength = 512;

    private const double SecondsPerHour = 3600;
    private static readonly TimeSpan DefaultMaxSampleAge = TimeSpan.FromSeconds(10);

    private readonly TimeProvider _time;
    private readonly TimeSpan _maxSampleAge;
    private readonly ConcurrentDictionary<string, PowerHistory> _sources = new(StringComparer.OrdinalIgnoreCase);
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
            // The first reading of a domain has a counter but no power yet: it still anchors the interval.
            if (domain.EnergyJoules is not { } joules)
            {
                continue;
            }

            var history = _sources.GetOrAdd(domain.Zone, static _ => new PowerHistory());
            history.Add(sample.Rapl.Timestamp, joules, domain.Watts);

            // Names repeat across packages ("core" under each); the name means the first, as in RaplReading.Domain.
            if (ReferenceEquals(sample.Rapl.Domain(domain.Name), domain))
            {
                _sources[domain.Name] = history;
            }
        }

        if (sample.Nvidia.PowerWatts is { } gpuWatts)
        {
            _sources.GetOrAdd(SystemSample.NvidiaSmiPowerSource, static _ => new PowerHistory())
                .AddPower(sample.Nvidia.Timestamp, gpuWatts);
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
        var measurement = Compute(span.BackendId, span.PowerSource, span.ConfiguredWatts, span.Start, now, span.StartJoules);
        Add(measurement);
        return measurement;
    }

    /// <summary>
    /// The energy of an interval that began at <paramref name="busySince"/> and ends now (a finished
    /// request: from the slot grant to its last token), added to the backend's totals.
    /// </summary>
    /// <param name="powerSource">The device's RAPL domain or <c>nvidia-smi</c> (<c>sensors.power</c>), or null.</param>
    /// <param name="configuredWatts">The device's configured power, for the estimate.</param>
    public EnergyMeasurement Measure(string backendId, string? powerSource, double configuredWatts, DateTimeOffset busySince)
    {
        ArgumentNullException.ThrowIfNull(backendId);
        var measurement = Compute(backendId, powerSource, configuredWatts, busySince, _time.GetUtcNow(), JoulesAt(powerSource, busySince));
        Add(measurement);
        return measurement;
    }

    private EnergyMeasurement Compute(string backendId, string? powerSource, double configuredWatts, DateTimeOffset start, DateTimeOffset end, double? startJoules)
    {
        var busy = end - start;
        if (busy < TimeSpan.Zero)
        {
            busy = TimeSpan.Zero;
        }

        if (startJoules is { } startJ && JoulesAt(powerSource, end) is { } endJ && endJ >= startJ)
        {
            var seconds = busy.TotalSeconds;
            return new EnergyMeasurement(backendId, (endJ - startJ) / SecondsPerHour, EnergyBasis.Measured, busy, seconds > 0 ? (endJ - startJ) / seconds : 0);
        }

        return new EnergyMeasurement(backendId, Estimate(configuredWatts, busy), EnergyBasis.Estimated, busy, configuredWatts);
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

    /// <summary>The source's energy counter at <paramref name="at"/>, or null when it was not measuring then.</summary>
    private double? JoulesAt(string? powerSource, DateTimeOffset at) =>
        !string.IsNullOrEmpty(powerSource) && _sources.TryGetValue(powerSource, out var history)
            ? history.JoulesAt(at, _maxSampleAge)
            : null;

    /// <summary>
    /// One source's recent samples, oldest first, in a ring: when each was taken, its energy counter
    /// (joules since the meter first saw the source) and its power then, where known.
    /// </summary>
    private sealed class PowerHistory
    {
        private readonly Lock _lock = new();
        private readonly Point[] _points = new Point[HistoryLength];
        private int _first;
        private int _count;

        /// <summary>A sample of a source that counts its own energy (RAPL).</summary>
        public void Add(DateTimeOffset at, double joules, double? watts)
        {
            lock (_lock)
            {
                Append(new Point(at, joules, watts));
            }
        }

        /// <summary>A sample of a source that reports only power (nvidia-smi): the counter is the trapezoid sum of the readings.</summary>
        public void AddPower(DateTimeOffset at, double watts)
        {
            lock (_lock)
            {
                var joules = 0.0;
                if (_count > 0 && Last is { Watts: { } previousWatts } last)
                {
                    joules = last.Joules + (previousWatts + watts) / 2 * Math.Max(0, (at - last.At).TotalSeconds);
                }

                Append(new Point(at, joules, watts));
            }
        }

        /// <summary>
        /// The counter at <paramref name="at"/>: interpolated between the two samples around it,
        /// extrapolated at the latest power for up to <paramref name="maxAge"/> past the latest
        /// sample, and unknown before the first sample or once the source has gone quiet.
        /// </summary>
        public double? JoulesAt(DateTimeOffset at, TimeSpan maxAge)
        {
            lock (_lock)
            {
                if (_count == 0)
                {
                    return null;
                }

                var last = Last;
                if (at >= last.At)
                {
                    var age = at - last.At;
                    return age > maxAge ? null
                        : age == TimeSpan.Zero ? last.Joules
                        : last.Watts is { } w ? last.Joules + w * age.TotalSeconds
                        : null;
                }

                if (at < this[0].At)
                {
                    return null;
                }

                // Binary search for the last point at or before the instant; points are in time order.
                int lo = 0, hi = _count - 1;
                while (lo < hi)
                {
                    var mid = (lo + hi + 1) / 2;
                    if (this[mid].At <= at)
                    {
                        lo = mid;
                    }
                    else
                    {
                        hi = mid - 1;
                    }
                }

                var before = this[lo];
                var after = this[lo + 1];
                var span = (after.At - before.At).TotalSeconds;
                return span <= 0 ? before.Joules : before.Joules + (after.Joules - before.Joules) * (at - before.At).TotalSeconds / span;
            }
        }

        private Point Last => this[_count - 1];

        private Point this[int index] => _points[(_first + index) % _points.Length];

        private void Append(Point point)
        {
            if (_count > 0 && point.At <= Last.At)
            {
                // A clock that did not move (or went back): the newer reading replaces the last one.
                if (point.At == Last.At)
                {
                    _points[(_first + _count - 1) % _points.Length] = point;
                }

                return;
            }

            if (_count == _points.Length)
            {
                _first = (_first + 1) % _points.Length;
                _count--;
            }

            _points[(_first + _count) % _points.Length] = point;
            _count++;
            AssertInvariants();
        }

        [Conditional("DEBUG")]
        private void AssertInvariants()
        {
            Debug.Assert(_lock.IsHeldByCurrentThread, "history changes under the lock");
            Debug.Assert(_count is > 0 and <= HistoryLength, "a history holds at least the point just added");
            for (var i = 1; i < _count; i++)
            {
                Debug.Assert(this[i - 1].At < this[i].At, "points are in strictly increasing time order");
            }
        }

        private readonly record struct Point(DateTimeOffset At, double Joules, double? Watts);
    }

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
