using System.Collections.Immutable;
using System.Text.Json;
using Router.Actors.Routing;
using Router.Tests.Http.Fakes;
using static Router.Tests.Http.HttpTestKit;

namespace Router.Tests.Http;

public sealed class ModelAndAdminEndpointTests : IAsyncLifetime
{
    private readonly FakeRouterAdmin _admin = new();
    private HttpSurfaceHost _host = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _host = await HttpSurfaceHost.StartAsync(new FakeInferenceRouter(), _admin);
        _client = _host.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _host.DisposeAsync();
    }

    [Fact]
    public async Task Models_UnionOfBackends_EachModelListsItsBackends()
    {
        using var response = await _client.GetAsync("v1/models");

        var json = await JsonAsync(response);
        Assert.Equal("list", json.GetProperty("object").GetString());
        var data = json.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal(["llama3.1:8b", "llama3.2:1b", "llama3.2:latest", "nomic-embed-text:latest", "qwen2.5:0.5b"],
            data.Select(m => m.GetProperty("id").GetString()));
        var embed = data.Single(m => m.GetProperty("id").GetString() == "nomic-embed-text:latest");
        Assert.Equal("model", embed.GetProperty("object").GetString());
        Assert.Equal("ollama-proxy", embed.GetProperty("owned_by").GetString());
        Assert.Equal(["ollama-igpu", "ollama-npu"], embed.GetProperty("backends").EnumerateArray().Select(b => b.GetString()));
    }

    [Fact]
    public async Task Model_ByNameWithColon_Found()
    {
        using var found = await _client.GetAsync("v1/models/llama3.1:8b");
        using var missing = await _client.GetAsync("v1/models/gpt-4o");

        Assert.Equal("llama3.1:8b", (await JsonAsync(found)).GetProperty("id").GetString());
        Assert.Equal(404, (int)missing.StatusCode);
        Assert.Equal("model_not_found", (await JsonAsync(missing)).GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Health_SomeBackendsUsable_200WithEachBackend()
    {
        using var response = await _client.GetAsync("health");

        Assert.Equal(200, (int)response.StatusCode);
        var json = await JsonAsync(response);
        Assert.Equal("degraded", json.GetProperty("status").GetString());
        Assert.Equal(3, json.GetProperty("usable_backends").GetInt32());
        var cpu = json.GetProperty("backends").EnumerateArray().Single(b => b.GetProperty("id").GetString() == "ollama-cpu");
        Assert.Equal("unhealthy", cpu.GetProperty("health").GetString());
        Assert.Equal("connection refused", cpu.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Health_NoBackendUsable_503()
    {
        _admin.Snapshots = _admin.Snapshots.Select(s => s with { Health = BackendHealth.Unhealthy }).ToImmutableArray();

        using var response = await _client.GetAsync("health");

        Assert.Equal(503, (int)response.StatusCode);
        Assert.Equal("unhealthy", (await JsonAsync(response)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Health_AllHealthy_SaysHealthy()
    {
        _admin.Snapshots = _admin.Snapshots.Select(s => s with { Health = BackendHealth.Healthy }).ToImmutableArray();

        using var response = await _client.GetAsync("health");

        Assert.Equal("healthy", (await JsonAsync(response)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Backends_Snapshot_ShowsStateCharacteristicsModelsMetricsAndQueues()
    {
        using var response = await _client.GetAsync("backends");

        var igpu = (await JsonAsync(response)).GetProperty("backends").EnumerateArray().Single(b => b.GetProperty("id").GetString() == "ollama-igpu");
        Assert.Equal("healthy", igpu.GetProperty("health").GetString());
        Assert.Equal("igpu", igpu.GetProperty("hardware").GetString());
        Assert.Equal(12, igpu.GetProperty("characteristics").GetProperty("power_watts").GetDouble());
        Assert.Equal(380, igpu.GetProperty("characteristics").GetProperty("avg_latency_ms").GetDouble());
        Assert.Contains("qwen2.5:0.5b", igpu.GetProperty("models").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal(1, igpu.GetProperty("metrics").GetProperty("in_flight").GetInt32());
        Assert.Equal(41.2, igpu.GetProperty("metrics").GetProperty("models").GetProperty("llama3.2:latest").GetProperty("tokens_per_second").GetDouble());
        var queue = igpu.GetProperty("queue");
        Assert.Equal(0, queue.GetProperty("best-effort").GetInt32()); // as on every other surface
        Assert.Equal(2, queue.GetProperty("normal").GetInt32());
        Assert.Equal(1, queue.GetProperty("high").GetInt32());
        Assert.Equal(64, igpu.GetProperty("queue_limits").GetProperty("critical").GetInt32());
    }

    [Fact]
    public async Task Thermal_SystemState_TemperaturesPerBackendAndThrottling()
    {
        using var response = await _client.GetAsync("thermal");

        var json = await JsonAsync(response);
        Assert.Equal(71.5, json.GetProperty("max_temperature_c").GetDouble());
        Assert.False(json.GetProperty("throttling").GetBoolean());
        var backends = json.GetProperty("backends");
        Assert.Equal(71.5, backends.GetProperty("ollama-nvidia").GetProperty("temperature_c").GetDouble());
        Assert.Equal(JsonValueKind.Null, backends.GetProperty("ollama-npu").GetProperty("temperature_c").ValueKind);
        Assert.Equal("over-limit", backends.GetProperty("ollama-cpu").GetProperty("state").GetString());
    }

    [Fact]
    public async Task Efficiency_Get_ModeModeInEffectReasonAndPower()
    {
        using var response = await _client.GetAsync("efficiency");

        var json = await JsonAsync(response);
        Assert.Equal("balanced", json.GetProperty("mode").GetString());
        Assert.Equal("balanced", json.GetProperty("effective_mode").GetString());
        Assert.Equal("user-selected", json.GetProperty("reason").GetString());
        Assert.False(json.GetProperty("on_ac_power").GetBoolean());
        Assert.Equal(64, json.GetProperty("battery_percent").GetDouble());
    }

    [Theory]
    [InlineData("ultra-efficiency", EfficiencyMode.UltraEfficiency)]
    [InlineData("ultra_efficiency", EfficiencyMode.UltraEfficiency)]
    [InlineData("UltraEfficiency", EfficiencyMode.UltraEfficiency)]
    [InlineData("QUIET", EfficiencyMode.Quiet)]
    public async Task Efficiency_PostAnySpelling_SetsMode(string name, EfficiencyMode expected)
    {
        using var response = await _client.SendAsync(Post("efficiency", $$"""{"mode":"{{name}}"}"""));

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal(expected, Assert.Single(_admin.ModesSet));
        Assert.Equal(Router.Actors.Routing.WireNames.ToWire(expected), (await JsonAsync(response)).GetProperty("mode").GetString());
    }

    [Fact]
    public async Task Efficiency_PostAuto_ShowsModeInEffectAndReason()
    {
        using var response = await _client.SendAsync(Post("efficiency", """{"mode":"auto"}"""));

        var json = await JsonAsync(response);
        Assert.Equal("auto", json.GetProperty("mode").GetString());
        Assert.Equal("efficiency", json.GetProperty("effective_mode").GetString());
        Assert.Equal("on battery at 64 %", json.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task Efficiency_PostUnknownMode_400ListingValidModes()
    {
        using var response = await _client.SendAsync(Post("efficiency", """{"mode":"turbo"}"""));

        Assert.Equal(400, (int)response.StatusCode);
        var error = (await JsonAsync(response)).GetProperty("error");
        Assert.Contains("turbo", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("performance, balanced, efficiency, quiet, ultra-efficiency, auto", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("mode", error.GetProperty("param").GetString());
        Assert.Empty(_admin.ModesSet);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("""{"mode":null}""")]
    public async Task Efficiency_PostWithoutMode_400NamingMode(string body)
    {
        using var response = await _client.SendAsync(Post("efficiency", body));

        Assert.Equal(400, (int)response.StatusCode);
        Assert.Equal("mode", (await JsonAsync(response)).GetProperty("error").GetProperty("param").GetString());
    }

    [Fact]
    public async Task Efficiency_PostNotJson_400()
    {
        using var response = await _client.SendAsync(Post("efficiency", "mode=quiet"));

        Assert.Equal(400, (int)response.StatusCode);
        Assert.Equal("invalid_json", (await JsonAsync(response)).GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Actors_Tree_SerializedWithTheFieldsTheCliReads()
    {
        using var response = await _client.GetAsync("actors");

        var json = await JsonAsync(response);
        Assert.Equal(3, json.GetProperty("dead_letters").GetInt64());
        var root = json.GetProperty("root");
        Assert.Equal("/user", root.GetProperty("path").GetString());
        var backends = root.GetProperty("children")[0];
        Assert.Equal("BackendsSupervisor", backends.GetProperty("actor_type").GetString());
        var igpu = backends.GetProperty("children")[0].GetProperty("children")[0];
        Assert.Equal("BackendMailbox", igpu.GetProperty("mailbox_type").GetString());
        Assert.Equal(2, igpu.GetProperty("messages_waiting").GetInt32());
        Assert.Equal(1, igpu.GetProperty("restarts").GetInt32());
        Assert.Equal("InvalidOperationException: boom", igpu.GetProperty("last_failure").GetString());
    }

    [Fact]
    public async Task Actors_Subtree_OnlyThatPath()
    {
        using var response = await _client.GetAsync("actors?path=/user/backends");

        var json = await JsonAsync(response);
        Assert.Equal("/user/backends", json.GetProperty("root").GetProperty("path").GetString());
    }

    [Fact]
    public async Task Actors_NoActorAtPath_404NamesThePath()
    {
        using var response = await _client.GetAsync("actors?path=/user/nobody");

        Assert.Equal(404, (int)response.StatusCode);
        Assert.Contains("/user/nobody", (await JsonAsync(response)).GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Actors_RelativePath_400()
    {
        using var response = await _client.GetAsync("actors?path=user");

        Assert.Equal(400, (int)response.StatusCode);
    }
}
