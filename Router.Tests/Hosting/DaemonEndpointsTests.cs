using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Router.Actors.Config;
using Router.Gateway.Hosting;

namespace Router.Tests.Hosting;

/// <summary>
/// The endpoints only the daemon maps (<c>/simulation</c>, <c>/metrics</c>, <c>/explain</c>), on
/// the daemon as <c>--simulate</c> runs it, with simulated devices that answer at once.
/// </summary>
public sealed class DaemonEndpointsTests : IAsyncLifetime
{
    private RouterHost _host = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _host = await RouterHost.StartAsync(ConfigLoader.LoadDefault(), new RouterHostOptions
        {
            Simulate = true,
            SimulationTimeScale = 0,
            HttpPort = 0,
            GrpcPort = 0,
            ConsoleLogging = false,
        });
        _http = new HttpClient { BaseAddress = _host.HttpEndpoint, Timeout = TimeSpan.FromSeconds(20) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _host.DisposeAsync();
    }

    private async Task<(HttpStatusCode Status, string Body)> PostAsync(string path, byte[] body)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await _http.PostAsync(new Uri(path, UriKind.Relative), content);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("{\"on_ac_power\\ud800\":true}", "\\ud800")]
    [InlineData("{\"temperatures\":{\"ollama-npu\\udc00\":50}}", "temperatures")]
    public async Task Simulation_KeyNotUnicodeText_400NamingIt(string json, string named)
    {
        var (status, body) = await PostAsync("/simulation", Encoding.UTF8.GetBytes(json));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        var message = JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("message").GetString()!;
        Assert.Contains(named, message, StringComparison.Ordinal);
        Assert.Contains("UTF-8", message, StringComparison.Ordinal);
    }

    /// <summary>
    /// scripts/chaos's bad input: a temperature of 1e308 was taken and held, which left the device
    /// over its limit and the laptop hot for the rest of the daemon's life; an unknown id was taken
    /// and changed nothing.
    /// </summary>
    [Theory]
    [InlineData("{\"temperatures\":{\"ollama-npu\":1e308}}", "from -50 to 200")]
    [InlineData("{\"temperatures\":{\"ollama-npu\":-273.16}}", "from -50 to 200")]
    [InlineData("{\"temperatures\":{\"ollama-gpu\":60}}", "ollama-gpu is not a simulated backend")]
    public async Task Simulation_TemperatureOutOfRangeOrUnknownDevice_400AndNothingHeld(string json, string message)
    {
        var (status, body) = await PostAsync("/simulation", Encoding.UTF8.GetBytes(json));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(message, JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        using var shown = await _http.GetAsync(new Uri("/simulation", UriKind.Relative));
        var temperatures = JsonDocument.Parse(await shown.Content.ReadAsStringAsync()).RootElement.GetProperty("temperatures");
        Assert.All(temperatures.EnumerateObject(), t => Assert.InRange(t.Value.GetDouble(), -50, 200));
    }

    [Fact]
    public async Task Simulation_TemperatureInRange_HeldAndShown()
    {
        var (status, _) = await PostAsync("/simulation", """{"temperatures":{"ollama-npu":91.5}}"""u8.ToArray());

        Assert.Equal(HttpStatusCode.OK, status);
        using var shown = await _http.GetAsync(new Uri("/simulation", UriKind.Relative));
        Assert.Equal(91.5, JsonDocument.Parse(await shown.Content.ReadAsStringAsync()).RootElement.GetProperty("temperatures").GetProperty("ollama-npu").GetDouble());
    }

    [Fact]
    public async Task Simulation_KeyWithInvalidBytes_400()
    {
        byte[] json = [.. "{\"on_ac_power"u8, 0xFF, .. "\":true}"u8];

        var (status, body) = await PostAsync("/simulation", json);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("UTF-8", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Simulation_Post_AnswersWithTheStateAfterTheChange()
    {
        var (modeStatus, _) = await PostAsync("/efficiency", """{"mode":"auto"}"""u8.ToArray());
        Assert.Equal(HttpStatusCode.OK, modeStatus);

        // Each change flips what Auto decides, so an answer from before it would show the other mode.
        foreach (var (body, ac, battery, effective) in new[]
        {
            ("""{"on_ac_power":false,"battery_percent":15}""", false, (double?)15, "ultra-efficiency"),
            ("""{"on_ac_power":true,"battery_percent":null}""", true, null, "performance"),
            ("""{"on_ac_power":false,"battery_percent":35}""", false, 35, "efficiency"),
            ("""{"on_ac_power":true}""", true, 35, "performance"),
        })
        {
            var (status, answer) = await PostAsync("/simulation", Encoding.UTF8.GetBytes(body));

            Assert.Equal(HttpStatusCode.OK, status);
            var state = JsonDocument.Parse(answer).RootElement;
            Assert.Equal(ac, state.GetProperty("on_ac_power").GetBoolean());
            Assert.Equal(battery, state.GetProperty("battery_percent").ValueKind == JsonValueKind.Null ? null : state.GetProperty("battery_percent").GetDouble());
            Assert.Equal(effective, state.GetProperty("effective_mode").GetString());
        }
    }

    [Fact]
    public async Task Simulation_Faults_SwitchTheNamedDeviceAndShowInTheAnswer()
    {
        var nvidia = _host.Simulators.Single(s => s.Profile.Hardware == "nvidia");
        using var direct = new HttpClient { BaseAddress = nvidia.Endpoint, Timeout = TimeSpan.FromSeconds(20) };

        var (status, answer) = await PostAsync("/simulation", """{"faults":{"ollama-nvidia":{"error_status":503,"slow_token_ms":5,"drop_after_tokens":3}}}"""u8.ToArray());

        Assert.Equal(HttpStatusCode.OK, status);
        var faults = JsonDocument.Parse(answer).RootElement.GetProperty("faults");
        Assert.Equal(503, faults.GetProperty("ollama-nvidia").GetProperty("error_status").GetInt32());
        Assert.Equal(3, faults.GetProperty("ollama-nvidia").GetProperty("drop_after_tokens").GetInt32());
        Assert.Equal(5, faults.GetProperty("ollama-nvidia").GetProperty("slow_token_ms").GetDouble());
        Assert.Equal(0, faults.GetProperty("ollama-npu").GetProperty("error_status").GetInt32());
        using (var version = await direct.GetAsync(new Uri("/api/version", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, version.StatusCode);
        }

        // Refusing stops the device's listener; accepting brings it back on the same port.
        (status, _) = await PostAsync("/simulation", """{"faults":{"ollama-nvidia":{"refuse_connections":true}}}"""u8.ToArray());
        Assert.Equal(HttpStatusCode.OK, status);
        await Assert.ThrowsAsync<HttpRequestException>(() => direct.GetAsync(new Uri("/api/version", UriKind.Relative)));
        using (var shown = await _http.GetAsync(new Uri("/simulation", UriKind.Relative)))
        {
            var device = JsonDocument.Parse(await shown.Content.ReadAsStringAsync()).RootElement.GetProperty("faults").GetProperty("ollama-nvidia");
            Assert.True(device.GetProperty("refuse_connections").GetBoolean());
            Assert.Equal(503, device.GetProperty("error_status").GetInt32());
        }

        // null clears every fault of the device, the refusal included.
        (status, answer) = await PostAsync("/simulation", """{"faults":{"ollama-nvidia":null}}"""u8.ToArray());
        Assert.Equal(HttpStatusCode.OK, status);
        var cleared = JsonDocument.Parse(answer).RootElement.GetProperty("faults").GetProperty("ollama-nvidia");
        Assert.False(cleared.GetProperty("refuse_connections").GetBoolean());
        Assert.Equal(0, cleared.GetProperty("error_status").GetInt32());
        Assert.Equal(JsonValueKind.Null, cleared.GetProperty("drop_after_tokens").ValueKind);
        using (var version = await direct.GetAsync(new Uri("/api/version", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, version.StatusCode);
        }
    }

    [Theory]
    [InlineData("""{"faults":{"ollama-gpu":{"hang":true}}}""", "faults.ollama-gpu", "ollama-nvidia")]
    [InlineData("""{"faults":{"ollama-nvidia":{"hang":true,"error_status":200}}}""", "faults.ollama-nvidia.error_status", "400 to 599")]
    [InlineData("""{"faults":{"ollama-nvidia":{"hang":"yes"}}}""", "faults.ollama-nvidia.hang", "true or false")]
    [InlineData("""{"faults":{"ollama-nvidia":{"hang":true,"slow_token_ms":-1}}}""", "faults.ollama-nvidia.slow_token_ms", "milliseconds")]
    [InlineData("""{"faults":{"ollama-nvidia":{"drop_after_tokens":1.5}}}""", "faults.ollama-nvidia.drop_after_tokens", "tokens")]
    [InlineData("""{"faults":{"ollama-nvidia":{"hang":true,"explode":true}}}""", "faults.ollama-nvidia.explode", "refuse_connections")]
    [InlineData("""{"faults":{"ollama-nvidia":true}}""", "faults.ollama-nvidia", "null to clear")]
    [InlineData("""{"faults":[{"ollama-nvidia":{"hang":true}}]}""", "faults", "backend id")]
    [InlineData("""{"faults":{"ollama-nvidia\ud800":null}}""", "faults", "UTF-8")]
    [InlineData("""{"on_ac_power":false,"faults":{"ollama-nvidia":{"hang":true,"refuse_connections":1}}}""", "faults.ollama-nvidia.refuse_connections", "true or false")]
    public async Task Simulation_BadFaults_400NamingTheField_NothingChanges(string json, string field, string says)
    {
        var (status, body) = await PostAsync("/simulation", Encoding.UTF8.GetBytes(json));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        var error = JsonDocument.Parse(body).RootElement.GetProperty("error");
        Assert.Equal(field, error.GetProperty("param").GetString());
        Assert.Contains(says, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        var nvidia = _host.Simulators.Single(s => s.Profile.Hardware == "nvidia").Faults;
        Assert.False(nvidia.Hang);
        Assert.False(nvidia.RefuseConnections);
        Assert.Equal(0, nvidia.ErrorStatus);
        Assert.True(_host.Machine!.OnAcPower);
    }

    [Theory]
    [InlineData("POST", "/metrics", "GET")]
    [InlineData("POST", "/explain", "GET")]
    [InlineData("DELETE", "/simulation", "GET, POST")]
    [InlineData("PUT", "/efficiency", "GET, POST")]
    public async Task DaemonRoute_WrongMethod_405WithAllow(string method, string path, string allowed)
    {
        using var response = await _http.SendAsync(new HttpRequestMessage(new HttpMethod(method), new Uri(path, UriKind.Relative)));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal(allowed, string.Join(", ", response.Content.Headers.Allow));
        Assert.Equal("method_not_allowed", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetString());
    }
}
