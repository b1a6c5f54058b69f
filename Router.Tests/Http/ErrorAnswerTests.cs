using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Router.Telemetry.Metrics;
using Router.Tests.Http.Fakes;
using Router.Tests.Simulation;
using Router.Tests.TestKit;
using static Router.Tests.Http.HttpTestKit;

namespace Router.Tests.Http;

/// <summary>
/// The errors the router answers are counted by status and code in the metrics, and logged at
/// most once per code per interval: under overload every request may be a 429, and a client that
/// sends broken uploads must not fill the log either.
/// </summary>
public sealed class ErrorAnswerTests : IAsyncLifetime
{
    private readonly FakeInferenceRouter _router = new();
    private readonly CapturedLogs _logs = new();
    private readonly ManualClock _clock = new();
    private readonly RouterMetrics _metrics = new(new RouterMetricsState());
    private readonly MeterListener _listener = new();
    private readonly List<(long Value, int Status, string Code)> _counted = [];
    private HttpSurfaceHost _host = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter == _metrics.Meter && instrument.Name == "ollama_proxy.http.errors") listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            int status = 0;
            string code = "";
            foreach (var tag in tags)
            {
                if (tag.Key == "status") status = Convert.ToInt32(tag.Value, System.Globalization.CultureInfo.InvariantCulture);
                if (tag.Key == "code") code = (string)tag.Value!;
            }

            lock (_counted) _counted.Add((value, status, code));
        });
        _listener.Start();
        _host = await HttpSurfaceHost.StartAsync(_router, new FakeRouterAdmin(), configure: builder =>
        {
            builder.Logging.AddProvider(_logs);
            builder.Services.AddSingleton(_metrics);
            builder.Services.AddSingleton<TimeProvider>(_clock);
        });
        _client = _host.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _host.DisposeAsync();
        _listener.Dispose();
        _metrics.Dispose();
    }

    private long Counted(int status, string code)
    {
        lock (_counted) return _counted.Where(c => c.Status == status && c.Code == code).Sum(c => c.Value);
    }

    private string[] Logged(string code) => [.. _logs.Lines.Where(l => l.Message.Contains(code, StringComparison.Ordinal)).Select(l => l.Message)];

    [Fact]
    public async Task QueueFull_ManyTimes_CountedEachTimeLoggedOncePerInterval()
    {
        for (var i = 0; i < 40; i++)
        {
            using var response = await _client.SendAsync(Post("v1/chat/completions", """{"model":"busy","messages":[{"role":"user","content":"hi"}]}"""));
            Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        }

        Assert.Equal(40, Counted(429, "queue_full"));
        Assert.Single(Logged("queue_full"));

        _clock.Advance(TimeSpan.FromMinutes(1));
        using (await _client.SendAsync(Post("v1/chat/completions", """{"model":"busy","messages":[{"role":"user","content":"hi"}]}""")))
        {
        }

        var lines = Logged("queue_full");
        Assert.Equal(2, lines.Length);
        // The second line accounts for the ones not logged since the first.
        Assert.Contains("40 ", lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClientErrors_CountedByStatusAndCode()
    {
        using (await _client.SendAsync(Post("v1/chat/completions", "{not json")))
        using (await _client.SendAsync(Post("v1/chat/completions", """{"messages":[]}""")))
        using (await _client.GetAsync("no/such/path"))
        {
        }

        Assert.Equal(1, Counted(400, "invalid_json"));
        Assert.Equal(1, Counted(400, "missing_field"));
        Assert.Equal(1, Counted(404, "unknown_path"));
    }

    [Theory]
    [InlineData("v1/chat/completions")]
    [InlineData("api/show")]
    [InlineData("efficiency")]
    public async Task MalformedUpload_400CountedAndNoUnhandledException(string path)
    {
        // A chunked body whose chunk size is not hexadecimal: Kestrel fails the read.
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(_host.BaseAddress.Host, _host.BaseAddress.Port);
        var request = $"POST /{path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{{}}\r\n0\r\n\r\n";
        await socket.SendAsync(Encoding.ASCII.GetBytes(request));
        // The router answers, then Kestrel closes a connection whose body framing broke.
        var buffer = new byte[4096];
        var received = new StringBuilder();
        using var timeout = new CancellationTokenSource(Patience);
        int read;
        while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0) received.Append(Encoding.ASCII.GetString(buffer, 0, read));
        var answer = received.ToString();

        Assert.True(answer.StartsWith("HTTP/1.1 400", StringComparison.Ordinal), answer);
        Assert.True(answer.Contains("The request body could not be read", StringComparison.Ordinal), answer);
        Assert.Equal(1, Counted(400, "malformed_body"));
        Assert.DoesNotContain(_logs.Lines, l => l.Level >= LogLevel.Error);
    }
}
