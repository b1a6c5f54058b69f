using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using Router.Actors.Config;
using Router.Telemetry.Metrics;

namespace Router.Telemetry;

/// <summary>Wires the router's Meter to OpenTelemetry export, without a host or ASP.NET Core.</summary>
public static class TelemetrySetup
{
    /// <summary>The OTLP/HTTP port by convention; other ports are taken as OTLP/gRPC (4317).</summary>
    private const int OtlpHttpPort = 4318;

    /// <summary>
    /// A MeterProvider exporting the <see cref="RouterMetrics.MeterName"/> Meter over OTLP to
    /// <see cref="TelemetryConfig.OtlpEndpoint"/>, or null when no endpoint is configured. The caller
    /// disposes it at shutdown (which flushes the last export).
    /// </summary>
    /// <param name="configure">Further setup of the builder (extra readers, views), applied last.</param>
    public static MeterProvider? CreateOtlpMeterProviderIfConfigured(TelemetryConfig config, Action<MeterProviderBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.OtlpEndpoint is not { } endpoint)
        {
            return null;
        }

        var builder = Sdk.CreateMeterProviderBuilder()
            .AddMeter(RouterMetrics.MeterName)
            .AddOtlpExporter(options =>
            {
                options.Protocol = ProtocolFor(endpoint);
                options.Endpoint = ExportUri(endpoint, options.Protocol);
            });
        configure?.Invoke(builder);
        return builder.Build();
    }

    /// <summary>
    /// An endpoint set in code is used as-is by the exporter, so OTLP/HTTP needs the signal path
    /// (<c>/v1/metrics</c>) spelt out; a base address like <c>http://collector:4318</c> gets it added.
    /// </summary>
    internal static Uri ExportUri(Uri endpoint, OtlpExportProtocol protocol)
    {
        const string MetricsPath = "/v1/metrics";
        if (protocol != OtlpExportProtocol.HttpProtobuf || endpoint.AbsolutePath.EndsWith(MetricsPath, StringComparison.Ordinal))
        {
            return endpoint;
        }

        return new UriBuilder(endpoint) { Path = endpoint.AbsolutePath.TrimEnd('/') + MetricsPath }.Uri;
    }

    /// <summary>OTLP/HTTP for port 4318 or a <c>/v1/metrics</c> path, otherwise OTLP/gRPC.</summary>
    internal static OtlpExportProtocol ProtocolFor(Uri endpoint) =>
        endpoint.Port == OtlpHttpPort || endpoint.AbsolutePath.EndsWith("/v1/metrics", StringComparison.Ordinal)
            ? OtlpExportProtocol.HttpProtobuf
            : OtlpExportProtocol.Grpc;
}
