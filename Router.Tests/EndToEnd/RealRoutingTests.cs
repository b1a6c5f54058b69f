using System.Net;
using System.Text.Json;

namespace Router.Tests.EndToEnd;

/// <summary>
/// Routing decided by the real daemon and seen through its HTTP surface: hint headers, the
/// efficiency mode set over the admin API or followed from the (simulated) battery, and a client
/// that goes away mid-stream.
/// </summary>
public sealed class RealRoutingTests : IClassFixture<RealDaemon>, IAsyncLifetime
{
    private readonly RealDaemon _daemon;

    public RealRoutingTests(RealDaemon daemon) => _daemon = daemon;

    public Task InitializeAsync() => _daemon.ResetAsync();

    public Task DisposeAsync() => _daemon.ResetAsync();

    private static object Chat(int maxTokens = 4, bool stream = false) => new
    {
        model = "llama3.2:1b",
        messages = new[] { new { role = "user", content = "Why is the sky blue?" } },
        max_tokens = maxTokens,
        stream,
    };

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : "";

    private async Task<HttpResponseMessage> ChatAsync(params (string Name, string Value)[] headers)
    {
        var response = await _daemon.PostJsonAsync("/v1/chat/completions", Chat(), headers);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return response;
    }

    [Fact]
    public async Task TargetBackendHeader_Npu_ServedByOllamaNpu()
    {
        using var response = await ChatAsync(("X-Target-Backend", "npu"));

        Assert.Equal("ollama-npu", Header(response, "X-Backend-Used"));
        Assert.Equal("explicit-target", Header(response, "X-Routing-Reason"));
    }

    [Fact]
    public async Task MaxPowerWattsHeader_15_NeverNvidiaOrCpu()
    {
        var used = new List<string>();
        foreach (var latencyCritical in new[] { "true", "false", "true", "false", "true", "false" })
        {
            using var response = await ChatAsync(("X-Max-Power-Watts", "15"), ("X-Latency-Critical", latencyCritical));
            used.Add(Header(response, "X-Backend-Used"));
            Assert.True(double.Parse(Header(response, "X-Estimated-Power-W"), System.Globalization.CultureInfo.InvariantCulture) <= 15);
        }

        Assert.All(used, backend => Assert.Contains(backend, new[] { "ollama-npu", "ollama-igpu" }));
    }

    [Fact]
    public async Task LatencyCriticalHeader_NoOtherHint_ServedByNvidia()
    {
        using var response = await ChatAsync(("X-Latency-Critical", "true"));

        Assert.Equal("ollama-nvidia", Header(response, "X-Backend-Used"));
        Assert.Equal("latency-critical", Header(response, "X-Routing-Reason"));
    }

    [Fact]
    public async Task PostEfficiency_UltraEfficiency_RequestsGoToTheNpu()
    {
        using (var set = await _daemon.PostJsonAsync("/efficiency", new { mode = "ultra-efficiency" }))
        {
            Assert.Equal(HttpStatusCode.OK, set.StatusCode);
            using var body = JsonDocument.Parse(await set.Content.ReadAsStringAsync());
            Assert.Equal("ultra-efficiency", body.RootElement.GetProperty("mode").GetString());
            Assert.Equal("ultra-efficiency", body.RootElement.GetProperty("effective_mode").GetString());
        }

        var efficiency = await _daemon.GetJsonAsync("/efficiency");
        Assert.Equal("ultra-efficiency", efficiency.GetProperty("effective_mode").GetString());
        using var plain = await ChatAsync();
        Assert.Equal("ollama-npu", Header(plain, "X-Backend-Used"));
        using var hurried = await ChatAsync(("X-Latency-Critical", "true"));
        Assert.Equal("ollama-npu", Header(hurried, "X-Backend-Used"));
    }

    [Fact]
    public async Task PostEfficiency_UnknownMode_400ListingTheModes()
    {
        using var response = await _daemon.PostJsonAsync("/efficiency", new { mode = "turbo" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        foreach (var mode in new[] { "performance", "balanced", "efficiency", "quiet", "ultra-efficiency", "auto" })
        {
            Assert.Contains(mode, text, StringComparison.Ordinal);
        }
    }

    /// <summary>scripts/chaos's bad input: {"mode":"auto","turbo":true} was a 200 that switched to Auto and dropped the rest.</summary>
    [Fact]
    public async Task PostEfficiency_FieldBesideTheMode_400NamingItAndTheModeUnchanged()
    {
        var before = (await _daemon.GetJsonAsync("/efficiency")).GetProperty("mode").GetString();
        var other = before == "quiet" ? "performance" : "quiet";

        using var response = await _daemon.PostJsonAsync("/efficiency", new { mode = other, turbo = true });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("turbo", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(before, (await _daemon.GetJsonAsync("/efficiency")).GetProperty("mode").GetString());
    }

    [Fact]
    public async Task AutoMode_BatteryAt15Percent_UltraEfficiencyInEffectAndNpuServes()
    {
        using (var set = await _daemon.PostJsonAsync("/efficiency", new { mode = "auto" }))
        {
            Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        }

        var machine = _daemon.Host.Machine!;
        machine.SetAcPower(false);
        machine.SetBatteryPercent(15);
        _daemon.Host.Runtime.SampleNow();

        JsonElement efficiency = default;
        await _daemon.WaitUntilAsync(async () =>
        {
            efficiency = await _daemon.GetJsonAsync("/efficiency");
            return efficiency.GetProperty("effective_mode").GetString() == "ultra-efficiency";
        }, "GET /efficiency to show ultra-efficiency in effect on battery at 15 %");
        Assert.Equal("auto", efficiency.GetProperty("mode").GetString());
        Assert.False(string.IsNullOrEmpty(efficiency.GetProperty("reason").GetString()));

        using var response = await ChatAsync();
        Assert.Equal("ollama-npu", Header(response, "X-Backend-Used"));
    }

    [Theory]
    [InlineData("/v1/chat/completions", "data: {")]
    [InlineData("/api/chat", "{\"model\":")]
    [InlineData("/api/generate", "{\"model\":")]
    public async Task ClientDisconnectsMidStream_SlotFreedOnRouterAndDevice(string path, string firstLineStart)
    {
        object body = path switch
        {
            "/v1/chat/completions" => Chat(maxTokens: 100_000, stream: true),
            "/api/chat" => new { model = "llama3.2:1b", messages = new[] { new { role = "user", content = "Count forever." } }, stream = true, options = new { num_predict = 100_000 } },
            _ => new { model = "llama3.2:1b", prompt = "Count forever.", stream = true, options = new { num_predict = 100_000 } },
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(path, UriKind.Relative))
        {
            Content = System.Net.Http.Json.JsonContent.Create(body),
        };
        request.Headers.Add("X-Target-Backend", "igpu");
        var igpu = _daemon.Simulator("igpu");
        var writtenBefore = igpu.TokensWritten;

        using (var response = await _daemon.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("ollama-igpu", Header(response, "X-Backend-Used"));
            await using var stream = await response.Content.ReadAsStreamAsync();
            using var reader = new StreamReader(stream);
            var line = await reader.ReadLineAsync().WaitAsync(RealDaemon.Patience);
            Assert.StartsWith(firstLineStart, line, StringComparison.Ordinal);
            Assert.Equal(1, igpu.ActiveRequests);
            Assert.Equal(1, (await _daemon.InFlightFromAdminAsync())["ollama-igpu"]);
        } // disposing the response aborts the connection: the client has gone away

        await _daemon.WaitForSlotsFreedAsync(TimeSpan.FromSeconds(10));
        Assert.True(igpu.TokensWritten - writtenBefore < 100_000);
    }
}
