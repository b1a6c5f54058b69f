using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Router.Telemetry.Exposition;

/// <summary>How an instrument aggregates into a Prometheus family.</summary>
internal enum Aggregation
{
    /// <summary>Counter: measurements add up; exposed as <c>counter</c>.</summary>
    Sum,
    /// <summary>UpDownCounter: measurements add up, may fall; exposed as <c>gauge</c>.</summary>
    UpDownSum,
    /// <summary>Gauge and every observable instrument: the value is the latest measurement.</summary>
    LastValue,
    /// <summary>Histogram: cumulative buckets, sum and count.</summary>
    Histogram,
}

/// <summary>
/// The series of one instrument. Synchronous measurements arrive on any thread and lock only their
/// series; observable instruments are re-read at every scrape, so their series are cleared first
/// and a series whose source disappeared (a removed backend) disappears too.
/// </summary>
internal sealed class MetricFamily
{
    /// <summary>OpenTelemetry's default explicit bounds, for histograms that give no advice.</summary>
    private static readonly double[] DefaultBounds = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

    private readonly ConcurrentDictionary<LabelSet, Series> _series = new();

    // The same series keyed by the tags exactly as the instrument reported them. Building a
    // LabelSet (sorted, sanitised) costs allocations on every measurement; a request records
    // several, so the hot path looks the raw tags up here without allocating, and builds the
    // LabelSet only for a combination it has not seen.
    private readonly ConcurrentDictionary<RawTags, Series> _byRawTags = new(RawTagsComparer.Instance);
    private readonly ConcurrentDictionary<RawTags, Series>.AlternateLookup<ReadOnlySpan<KeyValuePair<string, object?>>> _rawLookup;

    private MetricFamily(Instrument instrument, string name, Aggregation aggregation, double[] bounds)
    {
        Instrument = instrument;
        Name = name;
        Aggregation = aggregation;
        Bounds = bounds;
        Help = string.IsNullOrWhiteSpace(instrument.Description) ? instrument.Name : instrument.Description;
        _rawLookup = _byRawTags.GetAlternateLookup<ReadOnlySpan<KeyValuePair<string, object?>>>();
    }

    public Instrument Instrument { get; }

    public string Name { get; }

    public string Help { get; }

    public Aggregation Aggregation { get; }

    /// <summary>Upper bounds of the histogram buckets, ascending, without +Inf.</summary>
    public double[] Bounds { get; }

    public string PrometheusType => Aggregation switch
    {
        Aggregation.Sum => "counter",
        Aggregation.Histogram => "histogram",
        _ => "gauge",
    };

    /// <summary>The family for an instrument, or null for an instrument type this exporter does not know.</summary>
    public static MetricFamily? Create(Instrument instrument)
    {
        if (!instrument.GetType().IsGenericType)
        {
            return null;
        }

        var definition = instrument.GetType().GetGenericTypeDefinition();
        Aggregation? aggregation =
            definition == typeof(Counter<>) ? Aggregation.Sum
            : definition == typeof(ObservableCounter<>) ? Aggregation.Sum
            : definition == typeof(UpDownCounter<>) ? Aggregation.UpDownSum
            : definition == typeof(ObservableUpDownCounter<>) || definition == typeof(ObservableGauge<>) || definition == typeof(Gauge<>) ? Aggregation.LastValue
            : definition == typeof(Histogram<>) ? Aggregation.Histogram
            : null;
        if (aggregation is not { } kind)
        {
            return null;
        }

        var isCounter = kind == Aggregation.Sum;
        var name = PrometheusNames.MetricName(instrument.Name, instrument.Unit, isCounter);
        var bounds = kind == Aggregation.Histogram ? HistogramBounds(instrument) : [];
        return new MetricFamily(instrument, name, kind, bounds);
    }

    /// <summary>Observable counters report running totals, so they keep the last value as well.</summary>
    public bool ReplacesValue => Aggregation == Aggregation.LastValue || Instrument.IsObservable;

    public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (double.IsNaN(value) || (Aggregation == Aggregation.Sum && !Instrument.IsObservable && value < 0))
        {
            // A counter only goes up; a negative add is a caller bug, not a sample.
            return;
        }

        if (!_rawLookup.TryGetValue(tags, out var series))
        {
            series = _series.GetOrAdd(LabelSet.From(tags), static (_, family) => new Series(family.Bounds.Length), this);
            _rawLookup.TryAdd(tags, series);
        }

        if (Aggregation == Aggregation.Histogram)
        {
            series.Observe(value, BucketIndex(value));
        }
        else if (ReplacesValue)
        {
            series.Set(value);
        }
        else
        {
            series.Add(value);
        }
    }

    /// <summary>Forgets the values of an observable instrument before it is observed again.</summary>
    public void ClearObserved()
    {
        if (Instrument.IsObservable)
        {
            _byRawTags.Clear();
            _series.Clear();
        }
    }

    public void WriteTo(ref PrometheusTextWriter writer)
    {
        if (_series.IsEmpty)
        {
            return;
        }

        var ordered = _series.ToArray();
        Array.Sort(ordered, static (a, b) => LabelSet.Compare(a.Key, b.Key));

        writer.WriteHelp(Name, Help);
        writer.WriteType(Name, PrometheusType);
        foreach (var (labels, series) in ordered)
        {
            if (Aggregation == Aggregation.Histogram)
            {
                WriteHistogram(ref writer, labels, series);
            }
            else
            {
                writer.WriteSample(Name, null, labels, null, series.Value);
            }
        }
    }

    private void WriteHistogram(ref PrometheusTextWriter writer, LabelSet labels, Series series)
    {
        var snapshot = series.Snapshot();
        long cumulative = 0;
        for (var i = 0; i < Bounds.Length; i++)
        {
            cumulative += snapshot.Buckets[i];
            writer.WriteSample(Name, "_bucket", labels, PrometheusTextWriter.FormatNumber(Bounds[i]), cumulative);
        }

        writer.WriteSample(Name, "_bucket", labels, "+Inf", snapshot.Count);
        writer.WriteSample(Name, "_sum", labels, null, snapshot.Sum);
        writer.WriteSample(Name, "_count", labels, null, snapshot.Count);
    }

    /// <summary>The first bucket whose upper bound is ≥ the value (<c>le</c> means less or equal); Bounds.Length for +Inf.</summary>
    private int BucketIndex(double value)
    {
        var index = Array.BinarySearch(Bounds, value);
        return index >= 0 ? index : ~index;
    }

    private static double[] HistogramBounds(Instrument instrument)
    {
        IReadOnlyList<double>? advised = instrument switch
        {
            Histogram<double> h => h.Advice?.HistogramBucketBoundaries,
            Histogram<float> h => Convert(h.Advice?.HistogramBucketBoundaries),
            Histogram<long> h => Convert(h.Advice?.HistogramBucketBoundaries),
            Histogram<int> h => Convert(h.Advice?.HistogramBucketBoundaries),
            _ => null,
        };
        if (advised is null || advised.Count == 0)
        {
            return DefaultBounds;
        }

        var bounds = new double[advised.Count];
        for (var i = 0; i < bounds.Length; i++)
        {
            bounds[i] = advised[i];
        }

        // InstrumentAdvice requires ascending bounds; keep them so regardless, and drop an explicit +Inf.
        Array.Sort(bounds);
        return Array.FindAll(bounds, double.IsFinite);
    }

    private static double[]? Convert<T>(IReadOnlyList<T>? values)
        where T : struct, IConvertible
    {
        if (values is null)
        {
            return null;
        }

        var result = new double[values.Count];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = values[i].ToDouble(System.Globalization.CultureInfo.InvariantCulture);
        }

        return result;
    }

    /// <summary>One labelled series. A lock per series: contention only between measurements with identical labels.</summary>
    private sealed class Series
    {
        private readonly Lock _lock = new();
        private readonly long[] _buckets;
        private double _value;
        private double _sum;
        private long _count;

        public Series(int bounds)
        {
            // One slot per bound plus the +Inf bucket.
            _buckets = bounds > 0 ? new long[bounds + 1] : [];
        }

        public double Value
        {
            get
            {
                lock (_lock)
                {
                    return _value;
                }
            }
        }

        public void Add(double value)
        {
            lock (_lock)
            {
                _value += value;
            }
        }

        public void Set(double value)
        {
            lock (_lock)
            {
                _value = value;
            }
        }

        public void Observe(double value, int bucket)
        {
            Debug.Assert(bucket >= 0 && bucket < _buckets.Length, "bucket index within bounds + Inf");
            lock (_lock)
            {
                _buckets[bucket]++;
                _sum += value;
                _count++;
                AssertInvariants();
            }
        }

        [Conditional("DEBUG")]
        private void AssertInvariants()
        {
            Debug.Assert(_lock.IsHeldByCurrentThread, "a series changes under its lock");
            long inBuckets = 0;
            foreach (var count in _buckets)
            {
                inBuckets += count;
            }

            Debug.Assert(inBuckets == _count, "every observation lands in exactly one bucket");
        }

        public (long[] Buckets, double Sum, long Count) Snapshot()
        {
            lock (_lock)
            {
                return ((long[])_buckets.Clone(), _sum, _count);
            }
        }
    }
}

/// <summary>Tags in the order an instrument reported them (a key for <see cref="MetricFamily"/>'s fast lookup).</summary>
internal readonly record struct RawTags(KeyValuePair<string, object?>[] Tags);

/// <summary>Compares reported tags pairwise, in order, without allocating; a span of tags looks up a <see cref="RawTags"/>.</summary>
internal sealed class RawTagsComparer : IEqualityComparer<RawTags>, IAlternateEqualityComparer<ReadOnlySpan<KeyValuePair<string, object?>>, RawTags>
{
    public static readonly RawTagsComparer Instance = new();

    public bool Equals(RawTags x, RawTags y) => Equals(x.Tags, y);

    public int GetHashCode(RawTags obj) => GetHashCode((ReadOnlySpan<KeyValuePair<string, object?>>)obj.Tags);

    public bool Equals(ReadOnlySpan<KeyValuePair<string, object?>> alternate, RawTags other)
    {
        var tags = other.Tags;
        if (alternate.Length != tags.Length)
        {
            return false;
        }

        for (var i = 0; i < tags.Length; i++)
        {
            if (!string.Equals(alternate[i].Key, tags[i].Key, StringComparison.Ordinal) || !object.Equals(alternate[i].Value, tags[i].Value))
            {
                return false;
            }
        }

        return true;
    }

    public int GetHashCode(ReadOnlySpan<KeyValuePair<string, object?>> alternate)
    {
        var hash = new HashCode();
        foreach (var tag in alternate)
        {
            hash.Add(tag.Key, StringComparer.Ordinal);
            hash.Add(tag.Value);
        }

        return hash.ToHashCode();
    }

    public RawTags Create(ReadOnlySpan<KeyValuePair<string, object?>> alternate) => new(alternate.ToArray());
}
