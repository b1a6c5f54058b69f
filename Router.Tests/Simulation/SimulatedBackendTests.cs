using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Router.Gateway.Simulation;
using static Router.Tests.Backends.BackendTestKit;

namespace Router.Tests.Simulation;

public sealed class SimulatedBackendTests
{
    [Fact]
    public async Task Generate_SameModelAndPrompt_GivesTheSameTextOnAnyDevice()
    {
        await using SimulatedBackend npu = await SimulatedBackend.StartAsync(DeviceProfile.Npu, new SimulatorOptions { TimeScale = 0 });
        await using SimulatedBackend cpu = await SimulatedBackend.StartAsync(DeviceProfile.Cpu, new SimulatorOptions { TimeScale = 0 });
        using var http = new HttpClient();
        const string Body = """{"model":"llama3.2:1b","prompt":"same prompt","stream":false}""";
        const string Other = """{"model":"llama3.2:1b","prompt":"another prompt","stream":false}""";

        string a = await ResponseTextAsync(http, npu, Body);
        string b = await ResponseTextAsync(http, cpu, Body);
        string c = await ResponseTextAsync(http, npu, Other);

        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.Equal(24, a.Split(' ').Length); // the default answer length
    }

    [Fact]
    public async Task Stream_ScaledProfile_TakesAtLeastTheScaledDeviceTime()
    {
        // CPU: 1200 ms to the first token, 10 tokens/s. At scale 0.25: 300 ms, then 25 ms per token.
        await using SimulatedBackend cpu = await SimulatedBackend.StartAsync(DeviceProfile.Cpu, new SimulatorOptions { TimeScale = 0.25 });
        using var http = new HttpClient();
        var started = System.Diagnostics.Stopwatch.StartNew();

        using HttpResponseMessage response = await http.PostAsync(new Uri(cpu.Endpoint, "api/generate"),
            new StringContent("""{"model":"llama3.2:1b","prompt":"x","options":{"num_predict":5}}"""), Timeout());
        string body = await response.Content.ReadAsStringAsync(Timeout());
        TimeSpan elapsed = started.Elapsed;

        // A lower bound only: delays are never shorter than asked, a busy machine only makes them longer.
        Assert.True(elapsed >= TimeSpan.FromMilliseconds(300 + (4 * 25) - 5), $"took {elapsed.TotalMilliseconds} ms");
        Assert.Equal(6, body.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Theory]
    // As Ollama: its OpenAI layer binds typed fields (a 400); a native option of the wrong type is
    // found only while the options are applied (a 500).
    [InlineData("v1/chat/completions", """{"model":"llama3.2:1b","messages":[{"role":"user","content":"x"}],"max_tokens":"five"}""", 400, "max_tokens")]
    [InlineData("api/generate", """{"model":"llama3.2:1b","prompt":"x","options":{"num_predict":"many"}}""", 500, "num_predict")]
    public async Task Generate_WronglyTypedLength_AnswersAsOllamaDoes(string path, string body, int status, string named)
    {
        await using SimulatedBackend sim = await StartSimulatorAsync();
        using var http = new HttpClient();

        using HttpResponseMessage response = await http.PostAsync(new Uri(sim.Endpoint, path), new StringContent(body), Timeout());

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Contains(named, await response.Content.ReadAsStringAsync(Timeout()), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generate_EmbeddingModel_Is400()
    {
        await using SimulatedBackend sim = await StartSimulatorAsync();
        using var http = new HttpClient();

        using HttpResponseMessage response = await http.PostAsync(new Uri(sim.Endpoint, "api/generate"),
            new StringContent("""{"model":"nomic-embed-text","prompt":"x"}"""), Timeout());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Embed_SameText_GivesTheSameUnitVector()
    {
        await using SimulatedBackend sim = await StartSimulatorAsync(embeddingDimensions: 32);
        using var http = new HttpClient();

        float[] first = await EmbedAsync(http, sim, "hello");
        float[] second = await EmbedAsync(http, sim, "hello");

        Assert.Equal(first, second);
        Assert.Equal(32, first.Length);
        Assert.Equal(1.0, Math.Sqrt(first.Sum(v => (double)v * v)), 3);
    }

    [Fact]
    public async Task State_LoadHeatsTheDeviceAndIdleCoolsIt()
    {
        var clock = new ManualClock();
        DeviceProfile profile = DeviceProfile.Nvidia;
        await using SimulatedBackend sim = await SimulatedBackend.StartAsync(profile, new SimulatorOptions { TimeScale = 1, TimeProvider = clock });
        using var http = new HttpClient();
        SimulatedDeviceState idle = sim.GetState();

        // A hanging request keeps the device busy for as long as we like.
        sim.Faults.Hang = true;
        using var stop = new CancellationTokenSource();
        Task<HttpResponseMessage> busy = http.GetAsync(new Uri(sim.Endpoint, "api/version"), stop.Token);
        await sim.WaitUntilAsync(s => s.ActiveRequests == 1, Timeout());
        clock.Advance(TimeSpan.FromSeconds(60));
        SimulatedDeviceState hot = sim.GetState();

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => busy);
        await sim.WaitUntilAsync(s => s.ActiveRequests == 0, Timeout());
        clock.Advance(TimeSpan.FromSeconds(120));
        SimulatedDeviceState cooled = sim.GetState();

        Assert.Equal(profile.AmbientC, idle.TemperatureC);
        Assert.Equal(profile.IdlePowerWatts, idle.PowerWatts);
        Assert.True(hot.Busy);
        Assert.Equal(profile.PowerWatts, hot.PowerWatts);
        Assert.InRange(hot.TemperatureC, profile.AmbientC + 30, profile.AmbientC + profile.MaxTemperatureRiseC);
        Assert.Equal(profile.PowerWatts * 60 / 3600, hot.EnergyWh, 3);
        Assert.False(cooled.Busy);
        Assert.Equal(profile.IdlePowerWatts, cooled.PowerWatts);
        Assert.InRange(cooled.TemperatureC, profile.AmbientC, profile.AmbientC + 2);
    }

    [Fact]
    public async Task SimState_ReportsTheDeviceAsJson()
    {
        await using SimulatedBackend sim = await SimulatedBackend.StartAsync(DeviceProfile.Igpu, new SimulatorOptions { TimeScale = 0 });
        using var http = new HttpClient();
        sim.SetTemperature(71.5);

        using JsonDocument state = JsonDocument.Parse(await http.GetStringAsync(new Uri(sim.Endpoint, "sim/state"), Timeout()));

        JsonElement root = state.RootElement;
        Assert.Equal("igpu", root.GetProperty("device").GetString());
        // The device cools on the real clock between the set and the read: a little, never warmer.
        Assert.InRange(root.GetProperty("temperatureC").GetDouble(), 70.5, 71.5);
        Assert.Equal(DeviceProfile.Igpu.IdlePowerWatts, root.GetProperty("powerWatts").GetDouble());
        Assert.False(root.GetProperty("faults").GetProperty("hang").GetBoolean());
    }

    [Fact]
    public async Task SimFaults_PostSetsAndClearsFaults()
    {
        await using SimulatedBackend sim = await StartSimulatorAsync();
        using var http = new HttpClient();
        var version = new Uri(sim.Endpoint, "api/version");

        using (HttpResponseMessage set = await http.PostAsync(new Uri(sim.Endpoint, "sim/faults"),
            new StringContent("""{"errorStatus":502,"dropAfterTokens":4,"slowTokenMs":5}"""), Timeout()))
        {
            Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        }

        using (HttpResponseMessage failing = await http.GetAsync(version, Timeout()))
        {
            Assert.Equal(HttpStatusCode.BadGateway, failing.StatusCode);
        }

        Assert.Equal(4, sim.Faults.DropAfterTokens);
        Assert.Equal(TimeSpan.FromMilliseconds(5), sim.Faults.SlowTokenDelay);

        using (await http.PostAsync(new Uri(sim.Endpoint, "sim/faults"), new StringContent("""{"clear":true}"""), Timeout()))
        {
        }

        using HttpResponseMessage healthy = await http.GetAsync(version, Timeout());
        Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
        Assert.Equal(-1, sim.Faults.DropAfterTokens);
    }

    [Fact]
    public async Task RefuseConnections_RefusesAtTheSocketUntilAcceptingAgain()
    {
        await using SimulatedBackend sim = await StartSimulatorAsync();
        int port = sim.Port;

        await sim.RefuseConnectionsAsync();
        SocketException refused = await Assert.ThrowsAnyAsync<SocketException>(() => ConnectAsync(port));
        await sim.AcceptConnectionsAsync();
        await ConnectAsync(port);

        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        Assert.Equal(port, sim.Port);
        Assert.False(sim.Faults.RefuseConnections);
        Assert.Equal(2, sim.ListenerStarts);
    }

    [Fact]
    public async Task SimFaults_RefuseForAWhile_ComesBackByItself()
    {
        await using SimulatedBackend sim = await StartSimulatorAsync();
        using var http = new HttpClient();

        using (await http.PostAsync(new Uri(sim.Endpoint, "sim/faults"),
            new StringContent("""{"refuseConnections":true,"refuseForMs":200}"""), Timeout()))
        {
        }

        // The refusal may be over before this thread looks; the second start of the listener is what counts.
        await sim.WaitUntilAsync(s => s.ListenerStarts == 2 && !s.Faults.RefuseConnections, Timeout());
        Assert.Equal("0.12.0", JsonDocument.Parse(await http.GetStringAsync(new Uri(sim.Endpoint, "api/version"), Timeout()))
            .RootElement.GetProperty("version").GetString());
    }

    [Fact]
    public async Task Fleet_StartDefault_StartsTheFourDevices()
    {
        IReadOnlyList<SimulatedBackend> fleet = await SimulatedFleet.StartDefaultAsync(timeScale: 0);
        try
        {
            using var http = new HttpClient();
            Assert.Equal(["npu", "igpu", "nvidia", "cpu"], fleet.Select(b => b.Profile.Name).ToArray());
            Assert.Equal(4, fleet.Select(b => b.Port).Distinct().Count());
            foreach (SimulatedBackend backend in fleet)
            {
                Assert.Equal(0, backend.TimeScale);
                using HttpResponseMessage tags = await http.GetAsync(new Uri(backend.Endpoint, "api/tags"), Timeout());
                Assert.Equal(HttpStatusCode.OK, tags.StatusCode);
            }
        }
        finally
        {
            foreach (SimulatedBackend backend in fleet)
            {
                await backend.DisposeAsync();
            }
        }
    }

    private static async Task ConnectAsync(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), Timeout());
    }

    private static async Task<string> ResponseTextAsync(HttpClient http, SimulatedBackend sim, string body)
    {
        using HttpResponseMessage response = await http.PostAsync(new Uri(sim.Endpoint, "api/generate"), new StringContent(body, Encoding.UTF8, "application/json"), Timeout());
        using JsonDocument json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Timeout()));
        return json.RootElement.GetProperty("response").GetString()!;
    }

    private static async Task<float[]> EmbedAsync(HttpClient http, SimulatedBackend sim, string text)
    {
        using HttpResponseMessage response = await http.PostAsync(new Uri(sim.Endpoint, "api/embed"),
            new StringContent($$"""{"model":"nomic-embed-text","input":"{{text}}"}"""), Timeout());
        using JsonDocument json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Timeout()));
        return json.RootElement.GetProperty("embeddings")[0].EnumerateArray().Select(e => e.GetSingle()).ToArray();
    }
}
