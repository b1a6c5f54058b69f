using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Router.Tests.Telemetry.Metrics;

/// <summary>
/// A real Prometheus server (Debian's /usr/bin/prometheus, scripts/setup.d/promtool.sh) scraping one
/// target every second, in a temporary directory; killed and removed on dispose.
/// </summary>
internal sealed class PrometheusServer : IAsyncDisposable
{
    public const string Binary = "/usr/bin/prometheus";
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    private readonly DirectoryInfo _work;
    private readonly Process _process;
    private readonly HttpClient _http;
    private readonly StringBuilder _log = new();

    private PrometheusServer(DirectoryInfo work, Process process, int port)
    {
        _work = work;
        _process = process;
        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };
    }

    /// <summary>Starts a server that scrapes <c>/metrics</c> on <paramref name="target"/> as job <paramref name="job"/>.</summary>
    public static async Task<PrometheusServer> StartAsync(Uri target, string job)
    {
        Assert.True(File.Exists(Binary), $"{Binary} is missing: run scripts/setup.d/promtool.sh");
        var work = Directory.CreateTempSubdirectory("prometheus-");
        var port = FreePort();
        var config = Path.Combine(work.FullName, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: {job}
                static_configs:
                  - targets: ['{target.Host}:{target.Port}']
            """);

        var start = new ProcessStartInfo(Binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add($"--config.file={config}");
        start.ArgumentList.Add($"--storage.tsdb.path={Path.Combine(work.FullName, "data")}");
        start.ArgumentList.Add($"--web.listen-address=127.0.0.1:{port}");
        var process = new Process { StartInfo = start };
        var server = new PrometheusServer(work, process, port);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        Assert.True(process.Start());
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    /// <summary>Queries until the series has a sample (Prometheus scrapes every second), and returns its value.</summary>
    public async Task<string> WaitForSeriesAsync(string query, CancellationToken deadline)
    {
        var lastAnswer = "";
        while (true)
        {
            Assert.False(_process.HasExited, $"prometheus exited with {(_process.HasExited ? _process.ExitCode : 0)}:\n{Log}");
            try
            {
                using var response = await _http.GetAsync($"/api/v1/query?query={Uri.EscapeDataString(query)}", deadline);
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
                Assert.Fail($"no sample for {query} within {Deadline}; last answer: {lastAnswer}\n{Log}");
            }

            if (deadline.IsCancellationRequested)
            {
                Assert.Fail($"no sample for {query} within {Deadline}; last answer: {lastAnswer}\n{Log}");
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

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        _http.Dispose();
        _work.Delete(recursive: true);
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
