using System.Globalization;
using System.Net;
using System.Text.Json;
using Router.Tests.Grpc;

namespace Router.Tests.EndToEnd;

/// <summary>
/// Simulated devices that fail, seen through the real daemon's surfaces. Each test gets a daemon of
/// its own: failed calls count towards a backend's ejection, which must not carry over into the
/// next test.
/// </summary>
public sealed class RealFailureTests : IAsyncLifetime
{
    private readonly RealDaemon _daemon = new();

    public Task InitializeAsync() => _daemon.InitializeAsync();

    public Task DisposeAsync() => _daemon.DisposeAsync();

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : "";

    private static readonly object Chat = new
    {
        model = "llama3.2:1b",
        messages = new[] { new { role = "user", content = "Why is the sky blue?" } },
        max_tokens = 4,
    };

    [Fact]
    public async Task FirstChoiceAnswers500_NextAlternativeServesWithReasonFallback()
    {
        // Latency-critical orders the candidates by expected first token: the NVIDIA GPU, then the others.
        var latencyCritical = ("X-Latency-Critical", "true");
        string first;
        using (var probe = await _daemon.PostJsonAsync("/v1/chat/completions", Chat, latencyCritical))
        {
            Assert.Equal(HttpStatusCode.OK, probe.StatusCode);
            first = Header(probe, "X-Backend-Used");
        }

        var failing = _daemon.Simulator(first["ollama-".Length..]);
        failing.Faults.ErrorStatus = 500;

        using var response = await _daemon.PostJsonAsync("/v1/chat/completions", Chat, latencyCritical);

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {text}");
        Assert.Equal("fallback", Header(response, "X-Routing-Reason"));
        Assert.NotEqual(first, Header(response, "X-Backend-Used"));
        Assert.Contains(Header(response, "X-Backend-Used"), RealDaemon.BackendIds);
        using var body = JsonDocument.Parse(text);
        Assert.Equal(4, body.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task EveryDeviceAnswers500_BadGatewayOrUnavailableInEachCallersFormat()
    {
        foreach (var simulator in _daemon.Host.Simulators) simulator.Faults.ErrorStatus = 500;

        using (var openai = await _daemon.PostJsonAsync("/v1/chat/completions", Chat))
        {
            var text = await openai.Content.ReadAsStringAsync();
            Assert.True(openai.StatusCode is HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable, $"{(int)openai.StatusCode} {text}");
            using var body = JsonDocument.Parse(text);
            var error = body.RootElement.GetProperty("error");
            Assert.Equal(JsonValueKind.Object, error.ValueKind);
            Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
            Assert.True(error.TryGetProperty("type", out _));
        }

        using (var ollama = await _daemon.PostJsonAsync("/api/chat", new
        {
            model = "llama3.2:1b",
            messages = new[] { new { role = "user", content = "hi" } },
            stream = false,
        }))
        {
            var text = await ollama.Content.ReadAsStringAsync();
            Assert.True(ollama.StatusCode is HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable, $"{(int)ollama.StatusCode} {text}");
            using var body = JsonDocument.Parse(text);
            Assert.Equal(JsonValueKind.String, body.RootElement.GetProperty("error").ValueKind);
        }

        await _daemon.WaitForSlotsFreedAsync();
    }

    [Fact]
    public async Task FirstChoiceRefusesConnections_NextAlternativeServesWithReasonFallback()
    {
        await _daemon.Simulator("nvidia").RefuseConnectionsAsync();

        using var response = await _daemon.PostJsonAsync("/v1/chat/completions", Chat, ("X-Latency-Critical", "true"));

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {text}");
        Assert.Equal("fallback", Header(response, "X-Routing-Reason"));
        Assert.NotEqual("ollama-nvidia", Header(response, "X-Backend-Used"));
    }

    [Fact]
    public async Task DeviceDropsMidStream_SseEndsWithAnErrorEventNoDoneAndSlotFreed()
    {
        var nvidia = _daemon.Simulator("nvidia");
        nvidia.Faults.DropAfterTokens = 3;

        using var response = await _daemon.PostJsonAsync("/v1/chat/completions", new
        {
            model = "llama3.2:1b",
            messages = new[] { new { role = "user", content = "Why is the sky blue?" } },
            max_tokens = 50,
            stream = true,
        }, ("X-Target-Backend", "nvidia"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var events = (await response.Content.ReadAsStringAsync().WaitAsync(RealDaemon.Patience))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(line => line.StartsWith("data: ", StringComparison.Ordinal))
            .Select(line => line["data: ".Length..])
            .ToList();
        Assert.DoesNotContain("[DONE]", events);
        using var last = JsonDocument.Parse(events[^1]);
        Assert.False(string.IsNullOrWhiteSpace(last.RootElement.GetProperty("error").GetProperty("message").GetString()), events[^1]);
        var tokens = events.Count(e => e.Contains("\"delta\"", StringComparison.Ordinal) && e.Contains("\"content\"", StringComparison.Ordinal));
        Assert.InRange(tokens, 1, 3);
        await _daemon.WaitForSlotsFreedAsync();
    }

    [Fact]
    public async Task DeviceDropsMidStream_GrpcStreamEndsUnavailable()
    {
        _daemon.Simulator("nvidia").Faults.DropAfterTokens = 3;

        await RunGrpcAsync("dropped");

        await _daemon.WaitForSlotsFreedAsync();
    }

    [Fact]
    public async Task EveryDeviceAnswers500_GrpcUnavailable()
    {
        foreach (var simulator in _daemon.Host.Simulators) simulator.Faults.ErrorStatus = 500;

        await RunGrpcAsync("unavailable");

        await _daemon.WaitForSlotsFreedAsync();
    }

    [Fact]
    public async Task EveryDeviceDown_HealthAnd503WithRetryAfterInEachCallersFormat()
    {
        foreach (var simulator in _daemon.Host.Simulators) await simulator.RefuseConnectionsAsync();
        foreach (var id in RealDaemon.BackendIds) _daemon.Host.Runtime.GetBackendActor(id)!.Tell(Router.Actors.Backends.ProbeNow.Instance, Akka.Actor.ActorRefs.NoSender);
        await _daemon.WaitUntilAsync(async () =>
        {
            foreach (var b in await _daemon.Host.Runtime.GetBackendsAsync(CancellationToken.None))
            {
                if (b.Health != Router.Actors.Routing.BackendHealth.Unhealthy) return false;
            }

            return true;
        }, "every backend unhealthy after its probe failed");

        using (var health = await _daemon.Http.GetAsync(new Uri("/health", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
            using var body = JsonDocument.Parse(await health.Content.ReadAsStringAsync());
            Assert.Equal("unhealthy", body.RootElement.GetProperty("status").GetString());
        }

        using (var openai = await _daemon.PostJsonAsync("/v1/chat/completions", Chat))
        {
            var text = await openai.Content.ReadAsStringAsync();
            Assert.True(openai.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)openai.StatusCode} {text}");
            Assert.True(openai.Headers.RetryAfter?.Delta > TimeSpan.Zero, "Retry-After");
            using var body = JsonDocument.Parse(text);
            Assert.False(string.IsNullOrWhiteSpace(body.RootElement.GetProperty("error").GetProperty("message").GetString()));
        }

        using (var ollama = await _daemon.PostJsonAsync("/api/generate", new { model = "llama3.2:1b", prompt = "hi" }))
        {
            var text = await ollama.Content.ReadAsStringAsync();
            Assert.True(ollama.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)ollama.StatusCode} {text}");
            Assert.True(ollama.Headers.RetryAfter?.Delta > TimeSpan.Zero, "Retry-After");
            using var body = JsonDocument.Parse(text);
            Assert.False(string.IsNullOrWhiteSpace(body.RootElement.GetProperty("error").GetString()));
        }

        await RunGrpcAsync("unavailable");
    }

    private async Task<HttpResponseMessage> StartStreamAsync(string priority, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/v1/chat/completions", UriKind.Relative))
        {
            Content = System.Net.Http.Json.JsonContent.Create(new
            {
                model = "llama3.2:1b",
                messages = new[] { new { role = "user", content = "Count forever." } },
                max_tokens = 100_000,
                stream = true,
            }),
        };
        request.Headers.Add("X-Target-Backend", "igpu");
        request.Headers.Add("X-Priority", priority);
        return await _daemon.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }

    [Fact]
    public async Task CriticalRequestFindsSlotTakenByBestEffort_CriticalServedAndBestEffortStreamShed()
    {
        using var bestEffort = await StartStreamAsync("best-effort");
        Assert.Equal(HttpStatusCode.OK, bestEffort.StatusCode);
        await using var stream = await bestEffort.Content.ReadAsStreamAsync();
        using var reader = new StreamReader(stream);
        Assert.StartsWith("data: {", await reader.ReadLineAsync().WaitAsync(RealDaemon.Patience), StringComparison.Ordinal);

        using var critical = await _daemon.PostJsonAsync("/v1/chat/completions", Chat, ("X-Target-Backend", "igpu"), ("X-Priority", "critical"));

        var text = await critical.Content.ReadAsStringAsync();
        Assert.True(critical.StatusCode == HttpStatusCode.OK, $"{(int)critical.StatusCode} {text}");
        Assert.Equal("ollama-igpu", Header(critical, "X-Backend-Used"));
        var rest = await reader.ReadToEndAsync().WaitAsync(RealDaemon.Patience);
        var events = rest.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("data: ", StringComparison.Ordinal)).ToList();
        Assert.DoesNotContain("data: [DONE]", events);
        Assert.Contains("\"error\"", events[^1], StringComparison.Ordinal);
        await _daemon.WaitForSlotsFreedAsync();
    }

    [Fact]
    public async Task QueueFullAtBestEffort_429WithRetryAfterAndEveryPlaceGivenBack()
    {
        var limit = _daemon.Host.Config.Backends.Single(b => b.Id == "ollama-igpu").QueueLimits[0];
        var streams = new List<Task<HttpResponseMessage>>();
        using var clientsGone = new CancellationTokenSource();
        try
        {
            // One runs, `limit` wait: the queue for best effort is then full.
            streams.Add(StartStreamAsync("best-effort", clientsGone.Token));
            await _daemon.WaitUntilAsync(async () => (await _daemon.InFlightFromAdminAsync())["ollama-igpu"] == 1, "the first stream running");
            for (var i = 0; i < limit; i++) streams.Add(StartStreamAsync("best-effort", clientsGone.Token));
            await _daemon.WaitUntilAsync(async () =>
            {
                var backends = await _daemon.Host.Runtime.GetBackendsAsync(CancellationToken.None);
                return backends.Single(b => b.Id == "ollama-igpu").QueueDepthByPriority[0] == limit;
            }, $"{limit} best-effort requests waiting on ollama-igpu");

            using var refused = await StartStreamAsync("best-effort");
            var text = await refused.Content.ReadAsStringAsync();
            Assert.True(refused.StatusCode == HttpStatusCode.TooManyRequests, $"{(int)refused.StatusCode} {text}");
            Assert.True(refused.Headers.RetryAfter?.Delta > TimeSpan.Zero, "Retry-After");
            Assert.Contains("queue", text, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            // Every client goes away: the running one (its response is disposed) and the waiting ones (cancelled).
            await clientsGone.CancelAsync();
            foreach (var started in streams)
            {
                try
                {
                    (await started.WaitAsync(RealDaemon.Patience)).Dispose();
                }
                catch (OperationCanceledException)
                {
                    // A waiting request the client gave up on.
                }
            }
        }

        await _daemon.WaitUntilAsync(async () =>
        {
            var igpu = (await _daemon.Host.Runtime.GetBackendsAsync(CancellationToken.None)).Single(b => b.Id == "ollama-igpu");
            return igpu.InFlight == 0 && igpu.QueueDepthByPriority.All(d => d == 0);
        }, "ollama-igpu with nothing in flight and nothing queued");
        await _daemon.WaitForSlotsFreedAsync();
    }

    private async Task RunGrpcAsync(string scenario)
    {
        var (code, stdout, stderr) = await NodeProcess.RunAsync("real-grpc.mjs", TimeSpan.FromSeconds(60),
            _daemon.GrpcPort.ToString(CultureInfo.InvariantCulture), scenario);
        Assert.True(code == 0, $"node real-grpc.mjs {scenario} exited {code}\nstdout:\n{stdout}\nstderr:\n{stderr}");
    }
}
