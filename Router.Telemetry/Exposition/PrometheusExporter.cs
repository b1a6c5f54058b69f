using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Router.Telemetry.Exposition;

/// <summary>
/// Our Prometheus exposition: a <see cref="MeterListener"/> over one Meter that aggregates its
/// counters, up-down counters, gauges and histograms (with the instruments' advised bucket bounds)
/// and writes them in the text format 0.0.4. The gateway serves <see cref="WriteToAsync"/> at
/// <c>GET /metrics</c> with <see cref="ContentType"/>.
/// </summary>
public sealed class PrometheusExporter : IDisposable
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private readonly Meter _meter;
    private readonly MeterListener _listener;
    private readonly ConcurrentDictionary<Instrument, MetricFamily> _families = new();
    private readonly ConcurrentDictionary<string, Instrument> _names = new(StringComparer.Ordinal);

    // Scrapes take turns: an observable family is cleared, observed and written by one scrape at a time.
    private readonly Lock _scrapeLock = new();

    /// <param name="meter">The Meter to expose (the router's, <c>RouterMetrics.Meter</c>). Only its instruments are listened to.</param>
    public PrometheusExporter(Meter meter)
    {
        ArgumentNullException.ThrowIfNull(meter);
        _meter = meter;
        _listener = new MeterListener
        {
            InstrumentPublished = OnInstrumentPublished,
            MeasurementsCompleted = OnMeasurementsCompleted,
        };
        _listener.SetMeasurementEventCallback<double>(static (_, value, tags, state) => ((MetricFamily)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<float>(static (_, value, tags, state) => ((MetricFamily)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<long>(static (_, value, tags, state) => ((MetricFamily)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<int>(static (_, value, tags, state) => ((MetricFamily)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<short>(static (_, value, tags, state) => ((MetricFamily)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<byte>(static (_, value, tags, state) => ((MetricFamily)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<decimal>(static (_, value, tags, state) => ((MetricFamily)state!).Record((double)value, tags));
        _listener.Start();
    }

    /// <summary>Writes every family with at least one series, sorted by name, as UTF-8.</summary>
    public void WriteTo(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        lock (_scrapeLock)
        {
            var families = _families.Values.ToArray();
            foreach (var family in families)
            {
                family.ClearObserved();
            }

            _listener.RecordObservableInstruments();

            Array.Sort(families, static (a, b) => string.CompareOrdinal(a.Name, b.Name));
            var writer = new PrometheusTextWriter(output);
            foreach (var family in families)
            {
                family.WriteTo(ref writer);
            }
        }
    }

    public void WriteTo(Stream output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        WriteTo(buffer);
        output.Write(buffer.WrittenSpan);
    }

    /// <summary>For servers that forbid synchronous writes (Kestrel): renders into memory, then writes once.</summary>
    public async Task WriteToAsync(Stream output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        WriteTo(buffer);
        await output.WriteAsync(buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The exposition as a string (diagnostics and tests).</summary>
    public string WriteToString()
    {
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        WriteTo(buffer);
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public void Dispose() => _listener.Dispose();

    private void OnInstrumentPublished(Instrument instrument, MeterListener listener)
    {
        if (!ReferenceEquals(instrument.Meter, _meter) || MetricFamily.Create(instrument) is not { } family)
        {
            return;
        }

        // Two instruments that map to one Prometheus name would make an invalid exposition: the first keeps it.
        if (!_names.TryAdd(family.Name, instrument))
        {
            return;
        }

        _families[instrument] = family;
        listener.EnableMeasurementEvents(instrument, family);
    }

    private void OnMeasurementsCompleted(Instrument instrument, object? state)
    {
        if (_families.TryRemove(instrument, out var family))
        {
            _names.TryRemove(new KeyValuePair<string, Instrument>(family.Name, instrument));
        }
    }
}
