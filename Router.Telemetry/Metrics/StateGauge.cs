using System.Diagnostics.Metrics;
using Prometheus;

namespace Router.Telemetry.Metrics;

/// <summary>One series of a <see cref="StateGauge"/>: its value and its label values, in the gauge's label order.</summary>
internal readonly record struct GaugeReading(double Value, params string[] LabelValues);

/// <summary>
/// A gauge whose series are read from <see cref="RouterMetricsState"/> when someone collects: a
/// Prometheus scrape (the registry's before-collect callback calls <see cref="Sync"/>) or the
/// OpenTelemetry reader (an observable gauge on the Meter). One reading function feeds both exports,
/// so they cannot disagree about which series exist.
/// </summary>
internal sealed class StateGauge
{
    // Label values cannot hold it in practice (backend ids, sensor names); it only joins them into a set key.
    private const char KeySeparator = '\u001f';

    private readonly Gauge _series;
    private readonly string[] _labelNames;
    private readonly Func<IEnumerable<GaugeReading>> _read;

    /// <param name="name">The Prometheus family name, unit suffix included.</param>
    /// <param name="instrument">The OpenTelemetry instrument name (dotted, unit separate).</param>
    public StateGauge(
        MetricFactory prometheus, Meter meter, string name, string instrument, string? unit, string help,
        string[] labelNames, Func<IEnumerable<GaugeReading>> read)
    {
        _labelNames = labelNames;
        _read = read;
        // Suppressed: an unlabelled series is exposed only while the state has a value for it (no
        // battery, no battery series), never as a made-up 0.
        _series = prometheus.CreateGauge(name, help, labelNames, new GaugeConfiguration { SuppressInitialValue = true });
        meter.CreateObservableGauge(instrument, Observe, unit, help);
    }

    /// <summary>
    /// Sets every series the state reports and removes those it no longer reports (a backend that
    /// left the configuration, a sensor that went away), rather than repeating a stale value.
    /// </summary>
    public void Sync()
    {
        var reported = new HashSet<string>(StringComparer.Ordinal);
        foreach (var reading in _read())
        {
            if (_labelNames.Length == 0)
            {
                _series.Set(reading.Value);
            }
            else
            {
                _series.WithLabels(reading.LabelValues).Set(reading.Value);
            }

            reported.Add(Key(reading.LabelValues));
        }

        if (_labelNames.Length == 0)
        {
            if (reported.Count == 0)
            {
                _series.Unpublish();
            }

            return;
        }

        foreach (var labels in _series.GetAllLabelValues())
        {
            if (!reported.Contains(Key(labels)))
            {
                _series.RemoveLabelled(labels);
            }
        }
    }

    private IEnumerable<Measurement<double>> Observe()
    {
        foreach (var reading in _read())
        {
            var tags = new KeyValuePair<string, object?>[_labelNames.Length];
            for (var i = 0; i < tags.Length; i++)
            {
                tags[i] = new KeyValuePair<string, object?>(_labelNames[i], reading.LabelValues[i]);
            }

            yield return new Measurement<double>(reading.Value, tags);
        }
    }

    private static string Key(string[] labelValues) => string.Join(KeySeparator, labelValues);
}
