using System.Net;
using System.Text.Json;

namespace Router.Tests.EndToEnd;

/// <summary>Simulated devices that fail, seen through the real daemon's HTTP surface.</summary>
public sealed class RealFailureTests : IClassFixture<RealDaemon>, IAsyncLifetime
{
    private readonly RealDaemon _daemon;

    public RealFailureTests(RealDaemon daemon) => _daemon = daemon;

    public Task InitializeAsync() => _daemon.ResetAsync();

    public Task DisposeAsync() => _daemon.ResetAsync();

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
}
