using System.Diagnostics;
using System.Text.Json;
using Router.Gateway.Hosting;
using Router.Tests.Grpc;
using Router.Tests.Http;
using Router.Tests.TestKit;

namespace Router.Tests.EndToEnd;

/// <summary>
/// The daemon in a process of its own, started as a user starts it (<c>ollama-proxy --simulate</c>).
/// Inline socket completions are a switch of the whole process, read once, so only here does the
/// daemon run with them as users get them; the in-process fixtures cannot. A real browser checks
/// the origin policy here too, against the daemon configured from the environment.
/// </summary>
public sealed class DaemonProcessTests
{
    private static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ScriptLimit = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Default_InlineCompletions_OfficialClientsPassAndEverySlotIsFreed()
    {
        await using var daemon = StartDaemon(inlineIo: null);
        var (endpoint, grpcPort) = await WaitUntilListeningAsync(daemon);
        Assert.Equal("  socket completions: inline (server.inline-io)", await daemon.WaitForLineAsync("  socket completions:", StartLimit));

        foreach (var (script, checks) in new[] { ("real-openai.mjs", 12), ("real-ws.mjs", 5) })
        {
            var outcome = await NodeScript.RunAsync(script, endpoint, ScriptLimit);
            Assert.True(outcome.ExitCode == 0, $"{script}: {outcome}\ndaemon stderr:\n{daemon.Stderr}");
            Assert.Equal(checks, outcome.Output.Split('\n').Count(line => line.StartsWith("ok ", StringComparison.Ordinal)));
        }

        // A client that leaves mid-stream: the backend call is cancelled on an I/O thread and the
        // slot comes back (checked below with everything else).
        using (var client = new HttpClient { BaseAddress = endpoint })
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"llama3.2:1b","messages":[{"role":"user","content":"hi"}],"max_tokens":100000,"stream":true}""", System.Text.Encoding.UTF8, "application/json"),
        })
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(200, (int)response.StatusCode);
            await using var stream = await response.Content.ReadAsStreamAsync();
            using var reader = new StreamReader(stream);
            Assert.StartsWith("data: {", await reader.ReadLineAsync());
        }

        // HTTP/2 is Kestrel's other path, with its own output loop.
        foreach (var scenario in new[] { "generate-stream", "chat" })
        {
            var (code, stdout, stderr) = await NodeProcess.RunAsync("real-grpc.mjs", ScriptLimit, grpcPort, scenario);
            Assert.True(code == 0, $"real-grpc.mjs {scenario} exited {code}\nstdout:\n{stdout}\nstderr:\n{stderr}");
            Assert.Contains($"ok {scenario}", stdout, StringComparison.Ordinal);
        }

        await WaitForNothingInFlightAsync(endpoint);
    }

    [Fact]
    public async Task InlineIoOff_ThreadPoolCompletions_StreamsStillWork()
    {
        await using var daemon = StartDaemon(inlineIo: "false");
        var (endpoint, grpcPort) = await WaitUntilListeningAsync(daemon);
        Assert.Equal("  socket completions: thread pool (server.inline-io)", await daemon.WaitForLineAsync("  socket completions:", StartLimit));

        // Fresh daemon, nothing asked of it yet: gRPC health already knows the backends are up
        // (they became healthy before the gRPC surface was watching).
        var (code, stdout, stderr) = await NodeProcess.RunAsync("real-grpc.mjs", ScriptLimit, grpcPort, "health");
        Assert.True(code == 0, $"real-grpc.mjs health exited {code}\nstdout:\n{stdout}\nstderr:\n{stderr}");

        var outcome = await NodeScript.RunAsync("real-ollama.mjs", endpoint, ScriptLimit);
        Assert.True(outcome.ExitCode == 0, $"{outcome}\ndaemon stderr:\n{daemon.Stderr}");
        await WaitForNothingInFlightAsync(endpoint);
    }

    [Fact]
    public async Task Browser_OnlyListedSites_MayUseTheRouter()
    {
        // Chromium (scripts/setup.d/chromium.sh) loads pages from allowed.test and blocked.test.
        await using var daemon = StartDaemon(inlineIo: null, ("OLLAMA_PROXY_SERVER_ALLOWED_ORIGINS", "http://allowed.test:*"));
        var (endpoint, _) = await WaitUntilListeningAsync(daemon);

        var outcome = await NodeScript.RunAsync("browser-origins.mjs", endpoint, ScriptLimit);

        Assert.True(outcome.ExitCode == 0, $"{outcome}\ndaemon stderr:\n{daemon.Stderr}");
        Assert.Equal(5, outcome.Output.Split('\n').Count(line => line.StartsWith("ok ", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Browser_WithApiKeys_KeyInFetchAndWebSocketSubprotocol_ReboundNameRefused()
    {
        const string Key = "0123456789abcdef0123456789abcdef";
        await using var daemon = StartDaemon(inlineIo: null, ("OLLAMA_PROXY_SERVER_ALLOWED_ORIGINS", "http://allowed.test:*"), ("OLLAMA_PROXY_SERVER_API_KEYS", Key));
        var (endpoint, _) = await WaitUntilListeningAsync(daemon, Key);

        var outcome = await NodeScript.RunAsync("browser-keys.mjs", endpoint, ScriptLimit, Key);

        Assert.True(outcome.ExitCode == 0, $"{outcome}\ndaemon stderr:\n{daemon.Stderr}");
        Assert.Equal(3, outcome.Output.Split('\n').Count(line => line.StartsWith("ok ", StringComparison.Ordinal)));
    }


    [Fact]
    public async Task Sigterm_StreamsInFlightPastTheDrain_EachEndsInItsProtocolAndTheDaemonExitsZero()
    {
        // Real-time devices and a one-second drain: the long answers below cannot finish in time.
        await using var daemon = StartDaemon(inlineIo: null, timeScale: "1", ("OLLAMA_PROXY_SERVER_DRAIN_TIMEOUT", "1s"));
        var (endpoint, _) = await WaitUntilListeningAsync(daemon);
        using var client = new HttpClient { BaseAddress = endpoint, Timeout = ScriptLimit };

        var sse = await OpenStreamAsync(client, "/v1/chat/completions",
            """{"model":"llama3.2:1b","messages":[{"role":"user","content":"hi"}],"max_tokens":2000,"stream":true}""", "nvidia");
        var ndjson = await OpenStreamAsync(client, "/api/generate",
            """{"model":"llama3.2:1b","prompt":"hi","options":{"num_predict":2000}}""", "igpu");
        using var socket = new System.Net.WebSockets.ClientWebSocket();
        await socket.ConnectAsync(new UriBuilder(endpoint) { Scheme = "ws", Path = "/v1/stream/ws" }.Uri, CancellationToken.None);
        await socket.SendAsync("""{"request_id":"ws-1","model":"llama3.2:1b","prompt":"hi","max_tokens":2000,"target":"cpu"}"""u8.ToArray(),
            System.Net.WebSockets.WebSocketMessageType.Text, true, CancellationToken.None);
        Assert.Contains("\"token\"", await ReceiveTextAsync(socket), StringComparison.Ordinal);

        using (var kill = Process.Start("kill", ["-TERM", daemon.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        // SSE: an error event, then the end of the body; NDJSON: an error line. No reset.
        var sseRest = await sse.ReadToEndAsync();
        Assert.EndsWith("""data: {"error":{"message":"The router is shutting down and takes no more work; retry in a moment.","type":"service_unavailable","param":null,"code":"shutting_down"}}""" + "\n\n", sseRest, StringComparison.Ordinal);
        var ndjsonRest = await ndjson.ReadToEndAsync();
        Assert.EndsWith("""{"error":"The router is shutting down and takes no more work; retry in a moment."}""" + "\n", ndjsonRest, StringComparison.Ordinal);

        // WebSocket: the request's error frame, then a close 1001 with a reason.
        string frame;
        do
        {
            frame = await ReceiveTextAsync(socket);
        }
        while (!frame.Contains("\"error\"", StringComparison.Ordinal));
        Assert.Contains("shutting_down", frame, StringComparison.Ordinal);
        var buffer = new byte[4096];
        var closing = await socket.ReceiveAsync(buffer, CancellationToken.None);
        Assert.Equal(System.Net.WebSockets.WebSocketMessageType.Close, closing.MessageType);
        Assert.Equal(System.Net.WebSockets.WebSocketCloseStatus.EndpointUnavailable, socket.CloseStatus);
        Assert.Contains("shutting down", socket.CloseStatusDescription, StringComparison.Ordinal);

        Assert.Equal(0, await daemon.WaitForExitAsync(StartLimit));

        static async Task<StreamReader> OpenStreamAsync(HttpClient client, string path, string body, string target)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
            request.Headers.Add("X-Target-Backend", target);
            var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(200, (int)response.StatusCode);
            var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            Assert.NotNull(await reader.ReadLineAsync()); // the first token is here: the answer is under way
            return reader;
        }

        static async Task<string> ReceiveTextAsync(System.Net.WebSockets.ClientWebSocket socket)
        {
            var buffer = new byte[64 * 1024];
            var result = await socket.ReceiveAsync(buffer, CancellationToken.None);
            return System.Text.Encoding.UTF8.GetString(buffer, 0, result.Count);
        }
    }

    [Fact]
    public async Task Sigterm_ShortStreamsInFlight_FinishWithinTheDrain()
    {
        await using var daemon = StartDaemon(inlineIo: null, timeScale: "1", ("OLLAMA_PROXY_SERVER_DRAIN_TIMEOUT", "20s"));
        var (endpoint, _) = await WaitUntilListeningAsync(daemon);
        using var client = new HttpClient { BaseAddress = endpoint, Timeout = ScriptLimit };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"llama3.2:1b","messages":[{"role":"user","content":"hi"}],"max_tokens":60,"stream":true}""", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Target-Backend", "nvidia");
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.NotNull(await reader.ReadLineAsync());

        using (var kill = Process.Start("kill", ["-TERM", daemon.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        // The answer (under a second at the device's pace) is let through whole.
        Assert.EndsWith("data: [DONE]\n\n", await reader.ReadToEndAsync(), StringComparison.Ordinal);
        Assert.Equal(0, await daemon.WaitForExitAsync(StartLimit));
    }

    [Fact]
    public async Task SimulateBackend_Sigterm_StopsListeningAndExitsZero()
    {
        // Benchmarks run simulated devices as processes of their own and stop them with SIGTERM.
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = AppContext.BaseDirectory };
        foreach (var arg in new[] { CliProcess.GatewayDll, "simulate-backend", "--hardware", "npu", "--port", "0", "--time-scale", "0" })
        {
            start.ArgumentList.Add(arg);
        }

        await using var device = LineProcess.Start(start, "ollama-proxy simulate-backend");
        var listening = await device.WaitForLineAsync("simulated backend", StartLimit);
        var endpoint = new Uri(listening[(listening.IndexOf("http://", StringComparison.Ordinal))..]);
        using (var client = new HttpClient { BaseAddress = endpoint })
        {
            Assert.Contains("llama3.2:1b", await client.GetStringAsync(new Uri("/api/tags", UriKind.Relative)), StringComparison.Ordinal);
        }

        using (var kill = Process.Start("kill", ["-TERM", device.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        Assert.Equal(0, await device.WaitForExitAsync(StartLimit));
    }

    private static LineProcess StartDaemon(string? inlineIo, params (string Name, string Value)[] environment) =>
        StartDaemon(inlineIo, "0.1", environment);

    private static LineProcess StartDaemon(string? inlineIo, string timeScale, params (string Name, string Value)[] environment)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = AppContext.BaseDirectory };
        foreach (var arg in new[] { CliProcess.GatewayDll, "--simulate", "--time-scale", timeScale, "--http-port", "0", "--grpc-port", "0" })
        {
            start.ArgumentList.Add(arg);
        }

        // Nothing from the test run's environment may decide for the daemon.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("OLLAMA_PROXY_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(key);
        }

        start.Environment.Remove(InlineSocketCompletions.Variable);
        if (inlineIo is not null) start.Environment["OLLAMA_PROXY_SERVER_INLINE_IO"] = inlineIo;
        start.Environment.Remove("OLLAMA_ORIGINS");
        foreach (var (name, value) in environment) start.Environment[name] = value;
        return LineProcess.Start(start, "ollama-proxy --simulate");
    }

    private static async Task<(Uri Http, string GrpcPort)> WaitUntilListeningAsync(LineProcess daemon, string? apiKey = null)
    {
        // "ollama-proxy listening: HTTP http://127.0.0.1:41234/  gRPC http://127.0.0.1:41235/  (simulated backends)"
        var words = (await daemon.WaitForLineAsync("ollama-proxy listening:", StartLimit)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var endpoint = new Uri(words[3]);
        var grpcPort = new Uri(words[5]).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var client = new HttpClient { BaseAddress = endpoint };
        if (apiKey is not null) client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiKey);
        await Awaiting.AwaitConditionAsync(async () => (await client.GetAsync("/health")).IsSuccessStatusCode, StartLimit, "GET /health 200 (a healthy backend)");
        return (endpoint, grpcPort);
    }

    private static async Task WaitForNothingInFlightAsync(Uri endpoint)
    {
        using var client = new HttpClient { BaseAddress = endpoint };
        await Awaiting.AwaitConditionAsync(async () =>
        {
            using var admin = JsonDocument.Parse(await client.GetStringAsync("/backends"));
            return admin.RootElement.GetProperty("backends").EnumerateArray()
                .All(backend => backend.GetProperty("metrics").GetProperty("in_flight").GetInt32() == 0);
        }, StartLimit, "GET /backends in_flight 0 on every backend");
    }
}
