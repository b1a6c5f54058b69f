using System.Diagnostics.Metrics;
using System.Text;
using Router.Telemetry.Exposition;

namespace Router.Tests.Telemetry.Exposition;

public sealed class PrometheusExporterTests
{
    [Fact]
    public void WriteTo_Histogram_CumulativeBucketsInfSumAndCount()
    {
        using var meter = new Meter("test.histogram");
        var histogram = meter.CreateHistogram("t.latency", "s", "Latency.", tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.25, 1, 10] });
        using var exporter = new PrometheusExporter(meter);

        foreach (var value in new[] { 0.25, 0.5, 2, 100 })
        {
            histogram.Record(value, new KeyValuePair<string, object?>("route", "a"));
        }

        Assert.Equal(
            """
            # HELP t_latency_seconds Latency.
            # TYPE t_latency_seconds histogram
            t_latency_seconds_bucket{route="a",le="0.25"} 1
            t_latency_seconds_bucket{route="a",le="1"} 2
            t_latency_seconds_bucket{route="a",le="10"} 3
            t_latency_seconds_bucket{route="a",le="+Inf"} 4
            t_latency_seconds_sum{route="a"} 102.75
            t_latency_seconds_count{route="a"} 4

            """.ReplaceLineEndings("\n"),
            exporter.WriteToString());
    }

    [Fact]
    public void WriteTo_SameLabelsInAnyOrderOrSpelling_AreOneSeries()
    {
        using var meter = new Meter("test.label-order");
        var requests = meter.CreateCounter<long>("t.requests", "{request}", "Requests.");
        using var exporter = new PrometheusExporter(meter);

        // Each distinct way of reporting the tags is looked up on its own; all must land in the
        // series their sanitised, sorted labels name.
        requests.Add(1, new("backend", "npu"), new("outcome", "success"));
        requests.Add(2, new("outcome", "success"), new("backend", "npu"));
        requests.Add(4, new("backend", "npu"), new("outcome", "success"));
        requests.Add(8, new KeyValuePair<string, object?>("back.end", "npu"));
        requests.Add(16, new KeyValuePair<string, object?>("back_end", "npu"));
        requests.Add(32, new("backend", "cpu"), new("outcome", "success"));

        Assert.Equal(
            """
            # HELP t_requests_total Requests.
            # TYPE t_requests_total counter
            t_requests_total{back_end="npu"} 24
            t_requests_total{backend="cpu",outcome="success"} 32
            t_requests_total{backend="npu",outcome="success"} 7

            """.ReplaceLineEndings("\n"),
            exporter.WriteToString());
    }

    [Fact]
    public void WriteTo_CountersAndUpDownCounters_SortedFamiliesAndSeries()
    {
        using var meter = new Meter("test.counters");
        var requests = meter.CreateCounter<long>("t.requests", "{request}", "Requests.");
        var inFlight = meter.CreateUpDownCounter<int>("t.in_flight", "{request}", "In flight.");
        using var exporter = new PrometheusExporter(meter);

        requests.Add(2, new KeyValuePair<string, object?>("backend", "npu"));
        requests.Add(1, new KeyValuePair<string, object?>("backend", "cpu"));
        requests.Add(3, new KeyValuePair<string, object?>("backend", "npu"));
        requests.Add(-9, new KeyValuePair<string, object?>("backend", "npu"));
        inFlight.Add(2);
        inFlight.Add(-1);

        Assert.Equal(
            """
            # HELP t_in_flight In flight.
            # TYPE t_in_flight gauge
            t_in_flight 1
            # HELP t_requests_total Requests.
            # TYPE t_requests_total counter
            t_requests_total{backend="cpu"} 1
            t_requests_total{backend="npu"} 5

            """.ReplaceLineEndings("\n"),
            exporter.WriteToString());
    }

    [Fact]
    public void WriteTo_ObservableSourceGone_SeriesDisappears()
    {
        using var meter = new Meter("test.observable");
        var backends = new Dictionary<string, int> { ["npu"] = 1, ["cpu"] = 2 };
        meter.CreateObservableGauge("t.depth", () => backends.Select(b => new Measurement<int>(b.Value, new KeyValuePair<string, object?>("backend", b.Key))), description: "Depth.");
        using var exporter = new PrometheusExporter(meter);

        var before = exporter.WriteToString();
        backends.Remove("cpu");
        var after = exporter.WriteToString();

        Assert.Contains("t_depth{backend=\"cpu\"} 2\n", before, StringComparison.Ordinal);
        Assert.DoesNotContain("cpu", after, StringComparison.Ordinal);
        Assert.Contains("t_depth{backend=\"npu\"} 1\n", after, StringComparison.Ordinal);
    }

    [Fact]
    public void WriteTo_OtherMeterWithTheSameName_NotExposed()
    {
        using var mine = new Meter("OllamaProxy");
        using var other = new Meter("OllamaProxy");
        using var exporter = new PrometheusExporter(mine);
        mine.CreateCounter<long>("t.mine", description: "Mine.").Add(1);
        other.CreateCounter<long>("t.other", description: "Other.").Add(1);

        var text = exporter.WriteToString();

        Assert.Contains("t_mine_total 1\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("t_other", text, StringComparison.Ordinal);
    }

    [Fact]
    public void WriteTo_NoDescriptionAndEscapedTags_HelpFallsBackToNameAndValuesEscaped()
    {
        using var meter = new Meter("test.escape");
        using var exporter = new PrometheusExporter(meter);
        meter.CreateCounter<double>("t.energy", "Wh").Add(0.5, new KeyValuePair<string, object?>("backend", "a\"b\\c\nd"));

        Assert.Equal(
            "# HELP t_energy_watthours_total t.energy\n# TYPE t_energy_watthours_total counter\nt_energy_watthours_total{backend=\"a\\\"b\\\\c\\nd\"} 0.5\n",
            exporter.WriteToString());
    }

    [Fact]
    public async Task WriteToAsync_Stream_SameBytesAsBufferWriter()
    {
        using var meter = new Meter("test.stream");
        using var exporter = new PrometheusExporter(meter);
        meter.CreateCounter<long>("t.hits", description: "Hits.").Add(4);
        using var stream = new MemoryStream();

        await exporter.WriteToAsync(stream);

        Assert.Equal("# HELP t_hits_total Hits.\n# TYPE t_hits_total counter\nt_hits_total 4\n", Encoding.UTF8.GetString(stream.ToArray()));
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", PrometheusExporter.ContentType);
    }
}
