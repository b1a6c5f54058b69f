using OpenTelemetry.Exporter;
using Router.Actors.Config;
using Router.Telemetry;

namespace Router.Tests.Telemetry;

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
}
