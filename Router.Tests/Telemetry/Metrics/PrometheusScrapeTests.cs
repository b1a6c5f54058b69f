using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Router.Telemetry.Metrics;

namespace Router.Tests.Telemetry.Metrics;

/// <summary>
/// The end-to-end proof for the exposition alone: a real Prometheus server scrapes it from a
/// minimal Kestrel app and answers queries for the series we exposed. The running daemon's
/// /metrics is scraped in Router.Tests.Hosting.
/// </summary>
public sealed class PrometheusScrapeTests
{
    [Fact]
    public async Task Scrape_RealPrometheus_SeesRequestsHistogramAndGauges()
    {
        using var metrics = new RouterMetrics(new RouterMetricsState());
        RouterMetricsTests.Populate(metrics);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var app = builder.Build();
        app.MapGet("/metrics", async (HttpContext context) =>
        {
            context.Response.ContentType = RouterMetrics.PrometheusContentType;
            await metrics.WritePrometheusAsync(context.Response.Body, context.RequestAborted);
        });
        await app.StartAsync();

        try
        {
            await using var prometheus = await PrometheusServer.StartAsync(new Uri(app.Urls.Single()), "router");
            using var deadline = new CancellationTokenSource(PrometheusServer.Deadline);

            Assert.Equal("2", await prometheus.WaitForSeriesAsync("ollama_proxy_requests_total{backend=\"ollama-npu\",outcome=\"success\"}", deadline.Token));
            Assert.Equal("2", await prometheus.WaitForSeriesAsync("ollama_proxy_request_time_to_first_token_seconds_count{backend=\"ollama-npu\"}", deadline.Token));
            Assert.Equal("1", await prometheus.WaitForSeriesAsync("ollama_proxy_mode{mode=\"efficiency\"}", deadline.Token));
            Assert.Equal("61.5", await prometheus.WaitForSeriesAsync("ollama_proxy_temperature_celsius{sensor=\"x86_pkg_temp\"}", deadline.Token));
            Assert.Equal("1", await prometheus.WaitForSeriesAsync("up{job=\"router\"}", deadline.Token));
        }
        finally
        {
            await app.StopAsync();
        }
    }
}
