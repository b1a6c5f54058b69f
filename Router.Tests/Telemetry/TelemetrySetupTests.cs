using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using Router.Actors.Config;
using Router.Telemetry;
using Router.Telemetry.Metrics;
using Router.Tests.Telemetry.Metrics;

namespace Router.Tests.Telemetry;

/// <summary>
/// Run alone: a MeterProvider listens to every meter of the router's name in the process, so a
/// daemon another test runs at the same time added its own requests to the exported counts.
/// </summary>
[Collection(MetricsListenerCollection.Name)]
public sealed class TelemetrySetupTests
{
    [Fact]
    public void CreateOtlpMeterProviderIfConfigured_NoEndpoint_Disabled()
    {
        Assert.Null(TelemetrySetup.CreateOtlpMeterProviderIfConfigured(new TelemetryConfig()));
    }

    [Fact]
    public void CreateOtlpMeterProviderIfConfigured_Endpoint_ProviderBuilt()
    {
        // A closed port: the provider is built without contacting anything; shutdown's final export fails fast.
        using var provider = TelemetrySetup.CreateOtlpMeterProviderIfConfigured(new TelemetryConfig { OtlpEndpoint = new Uri("http://127.0.0.1:9/") });

        Assert.NotNull(provider);
    }

    [Theory]
    [InlineData("http://collector:4317", OtlpExportProtocol.Grpc, "http://collector:4317/")]
    [InlineData("http://collector:4318", OtlpExportProtocol.HttpProtobuf, "http://collector:4318/v1/metrics")]
    [InlineData("https://otel.example/otlp/v1/metrics", OtlpExportProtocol.HttpProtobuf, "https://otel.example/otlp/v1/metrics")]
    public void ProtocolFor_Endpoint_GrpcUnlessHttpPortOrPath(string endpoint, OtlpExportProtocol protocol, string exportUri)
    {
        var uri = new Uri(endpoint);

        Assert.Equal(protocol, TelemetrySetup.ProtocolFor(uri));
        Assert.Equal(new Uri(exportUri), TelemetrySetup.ExportUri(uri, protocol));
    }

    [Fact]
    public void CreateOtlpMeterProviderIfConfigured_RouterMetrics_ExportsWhatPrometheusShowsWithUnitsAndBuckets()
    {
        using var metrics = new RouterMetrics(new RouterMetricsState());
        var captured = new CapturingExporter();
        using var reader = new BaseExportingMetricReader(captured);
        using var provider = TelemetrySetup.CreateOtlpMeterProviderIfConfigured(
            new TelemetryConfig { OtlpEndpoint = new Uri("http://127.0.0.1:9/") }, builder => builder.AddReader(reader));
        RouterMetricsTests.Populate(metrics);

        // Collect through our reader only: the OTLP one would try the closed port.
        Assert.True(reader.Collect());

        var points = captured.Points;
        Assert.Equal("{request} 2", points["ollama_proxy.requests backend=ollama-npu outcome=success priority=normal reason=mode-efficiency"]);
        Assert.Equal("s count=2 sum=1.5 bounds=" + string.Join(' ', RouterMetrics.TimeToFirstTokenBuckets),
            points["ollama_proxy.request.time_to_first_token backend=ollama-npu priority=normal"]);
        Assert.Equal("s count=1 sum=0.2 bounds=" + string.Join(' ', RouterMetrics.DurationBuckets),
            points["ollama_proxy.request.duration backend=ollama-nvidia outcome=error"]);
        Assert.Equal("{token} 70", points["ollama_proxy.tokens backend=ollama-npu type=completion"]);
        Assert.Equal("Wh 0.01", points["ollama_proxy.energy backend=ollama-nvidia basis=measured"]);
        Assert.Equal("{request} 2", points["ollama_proxy.queue.depth backend=ollama-npu priority=normal"]);
        Assert.Equal("Cel 61.5", points["ollama_proxy.temperature sensor=x86_pkg_temp"]);
        Assert.Equal("% 42", points["ollama_proxy.battery.charge"]);
        Assert.Equal(" 1", points["ollama_proxy.mode mode=efficiency"]);
    }

    /// <summary>Keeps each exported point as text ("name tag=value…" → "unit value"), sorted tags, while the SDK still owns them.</summary>
    private sealed class CapturingExporter : BaseExporter<Metric>
    {
        public Dictionary<string, string> Points { get; } = new(StringComparer.Ordinal);

        public override ExportResult Export(in Batch<Metric> batch)
        {
            foreach (var metric in batch)
            {
                foreach (ref readonly var point in metric.GetMetricPoints())
                {
                    var tags = new List<string>();
                    foreach (var tag in point.Tags)
                    {
                        tags.Add($"{tag.Key}={tag.Value}");
                    }

                    tags.Sort(StringComparer.Ordinal);
                    Points[string.Join(' ', tags.Prepend(metric.Name))] = $"{metric.Unit} {Value(metric.MetricType, point)}";
                }
            }

            return ExportResult.Success;
        }

        private static string Value(MetricType type, in MetricPoint point)
        {
            switch (type)
            {
                case MetricType.LongSum:
                    return point.GetSumLong().ToString(System.Globalization.CultureInfo.InvariantCulture);
                case MetricType.DoubleSum:
                    return point.GetSumDouble().ToString(System.Globalization.CultureInfo.InvariantCulture);
                case MetricType.DoubleGauge:
                    return point.GetGaugeLastValueDouble().ToString(System.Globalization.CultureInfo.InvariantCulture);
                case MetricType.Histogram:
                    var bounds = new List<double>();
                    foreach (var bucket in point.GetHistogramBuckets())
                    {
                        if (!double.IsPositiveInfinity(bucket.ExplicitBound))
                        {
                            bounds.Add(bucket.ExplicitBound);
                        }
                    }

                    return FormattableString.Invariant($"count={point.GetHistogramCount()} sum={point.GetHistogramSum()} bounds={string.Join(' ', bounds)}");
                default:
                    return type.ToString();
            }
        }
    }
}

/// <summary>Tests that listen to the process-wide router meter: run after the parallel tests, one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MetricsListenerCollection
{
    public const string Name = "process-wide router meter";
}
