using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Router.Telemetry.Exposition;
using Router.Telemetry.Metrics;
using Router.Tests.Telemetry.Metrics;

namespace Router.Tests.Telemetry.Exposition;

/// <summary>
/// The end-to-end proof: a real Prometheus server (Debian's /usr/bin/prometheus) scrapes our
/// exposition from a minimal Kestrel app and answers queries for the series we exposed.
/// </summary>
public sealed class PrometheusScrapeTests
{
    private const string PrometheusBinary = "/usr/bin/prometheus";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Scrape_RealPrometheus_SeesRequestsHistogramAndGauges()
    {
        Assert.True(File.Exists(PrometheusBinary), $"{PrometheusBinary} is missing: run scripts/setup.d/promtool.sh");

        using var metrics = new RouterMetrics(new RouterMetricsState());
        using var exporter = new PrometheusExporter(metrics.Meter);
        RouterMetricsTests.Populate(metrics);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var app = builder.Build();
        app.MapGet("/metrics", async (HttpContext context) =>
        {
            context.Response.ContentType = PrometheusExporter.ContentType;
            await exporter.WriteToAsync(context.Response.Body, context.RequestAborted);
        });
        await app.StartAsync();
        var target = new Uri(app.Urls.Single());

        var work = Directory.CreateTempSubdirectory("prometheus-");
        var prometheusPort = FreePort();
        await File.WriteAllTextAsync(Path.Combine(work.FullName, "prometheus.yml"), $"""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: router
                static_configs:
                  - targets: ['127.0.0.1:{target.Port}']
            """);

        var log = new StringBuilder();
        var start = new ProcessStartInfo(PrometheusBinary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add($"--config.file={Path.Combine(work.FullName, "prometheus.yml")}");
        start.ArgumentList.Add($"--storage.tsdb.path={Path.Combine(work.FullName, "data")}");
        start.ArgumentList.Add($"--web.listen-address=127.0.0.1:{prometheusPort}");
        using var prometheus = new Process { StartInfo = start };
        prometheus.OutputDataReceived += (_, e) => Append(log, e.Data);
        prometheus.ErrorDataReceived += (_, e) => Append(log, e.Data);
        try
        {
            Assert.True(prometheus.Start());
            prometheus.BeginOutputReadLine();
            prometheus.BeginErrorReadLine();

            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{prometheusPort}"), Timeout = TimeSpan.FromSeconds(5) };
            using var deadline = new CancellationTokenSource(Deadline);

            var requests = await WaitForSeriesAsync(http, "ollama_proxy_requests_total{backend=\"ollama-npu\",outcome=\"success\"}", prometheus, log, deadline.Token);
            Assert.Equal("2", requests);
            Assert.Equal("2", await WaitForSeriesAsync(http, "ollama_proxy_request_time_to_first_token_seconds_count{backend=\"ollama-npu\"}", prometheus, log, deadline.Token));
            Assert.Equal("1", await WaitForSeriesAsync(http, "ollama_proxy_mode{mode=\"efficiency\"}", prometheus, log, deadline.Token));
            Assert.Equal("61.5", await WaitForSeriesAsync(http, "ollama_proxy_temperature_celsius{sensor=\"x86_pkg_temp\"}", prometheus, log, deadline.Token));
            Assert.Equal("1", await WaitForSeriesAsync(http, "up{job=\"router\"}", prometheus, log, deadline.Token));
        }
        finally
        {
            if (!prometheus.HasExited)
            {
                prometheus.Kill(entireProcessTree: true);
                await prometheus.WaitForExitAsync();
            }

            await app.StopAsync();
            work.Delete(recursive: true);
        }
    }

    /// <summary>Queries until the series has a sample (Prometheus scrapes every second), and returns its value.</summary>
    private static async Task<string> WaitForSeriesAsync(HttpClient http, string query, Process prometheus, StringBuilder log, CancellationToken deadline)
    {
        var lastAnswer = "";
        while (true)
        {
            Assert.False(prometheus.HasExited, $"prometheus exited with {(prometheus.HasExited ? prometheus.ExitCode : 0)}:\n{Snapshot(log)}");
            try
            {
                using var response = await http.GetAsync($"/api/v1/query?query={Uri.EscapeDataString(query)}", deadline);
                lastAnswer = await response.Content.ReadAsStringAsync(deadline);
                if (response.IsSuccessStatusCode)
                {
                    using var json = JsonDocument.Parse(lastAnswer);
                    var result = json.RootElement.GetProperty("data").GetProperty("result");
                    if (result.GetArrayLength() > 0)
                    {
                        return result[0].GetProperty("value")[1].GetString()!;
                    }
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
                Assert.Fail($"no sample for {query} within {Deadline}; last answer: {lastAnswer}\n{Snapshot(log)}");
            }

            if (deadline.IsCancellationRequested)
            {
                Assert.Fail($"no sample for {query} within {Deadline}; last answer: {lastAnswer}\n{Snapshot(log)}");
            }

            // Poll an external process: there is no signal to wait on but its answer.
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), deadline);
            }
            catch (OperationCanceledException)
            {
                // Checked at the top of the next round.
            }
        }
    }

    private static void Append(StringBuilder log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            log.AppendLine(line);
        }
    }

    private static string Snapshot(StringBuilder log)
    {
        lock (log)
        {
            return log.ToString();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
