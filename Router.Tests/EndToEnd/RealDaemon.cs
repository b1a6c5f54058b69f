using System.Collections.Immutable;
using System.Net.Http.Json;
using System.Text.Json;
using Router.Actors.Config;
using Router.Actors.Routing;
using Router.Actors.State;
using Router.Gateway.Hosting;
using Router.Gateway.Simulation;

namespace Router.Tests.EndToEnd;

/// <summary>
/// The whole daemon, as <c>ollama-proxy --simulate</c> runs it: four simulated Ollama devices,
/// the actor runtime, the HTTP and gRPC listeners on ephemeral ports. Started once per test class
/// (class fixture); <see cref="ResetAsync"/> puts the mode, faults and machine back between tests.
/// </summary>
/// <remarks>
/// The devices run ten times faster than real time, and before the first test every backend serves
/// <see cref="WarmUpRequests"/> short requests per chat model. Live metrics replace a backend's
/// configured latency once it has that many samples; measured on a sped-up device they are ten
/// times smaller than the configured figures, so a backend that happened to serve a few requests
/// would look faster than one that had not. Warmed up evenly, every backend is compared on live
/// figures, in the same order as the real devices.
/// </remarks>
public sealed class RealDaemon : IAsyncLifetime
{
    /// <summary>The default backends, in configuration order.</summary>
    public static readonly ImmutableArray<string> BackendIds = ["ollama-npu", "ollama-igpu", "ollama-nvidia", "ollama-cpu"];

    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>The chat models every simulated device holds.</summary>
    public static readonly ImmutableArray<string> ChatModels = ["llama3.2:1b", "qwen2.5:0.5b"];

    private const double TimeScale = 0.1;
    private const int WarmUpRequests = 3;

    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal RouterHost Host { get; private set; } = null!;

    public Uri HttpEndpoint => Host.HttpEndpoint;

    public int GrpcPort => Host.GrpcEndpoint.Port;

    public HttpClient Http { get; private set; } = null!;

    internal SimulatedBackend Simulator(string hardware)
    {
        foreach (var simulator in Host.Simulators)
        {
            if (simulator.Profile.Hardware == hardware) return simulator;
        }

        throw new InvalidOperationException($"no simulated {hardware}");
    }

    public async Task InitializeAsync()
    {
        Host = await RouterHost.StartAsync(ConfigLoader.LoadDefault(), new RouterHostOptions
        {
            Simulate = true,
            SimulationTimeScale = TimeScale,
            HttpPort = 0,
            GrpcPort = 0,
            ConsoleLogging = false,
        });
        Http = new HttpClient { BaseAddress = Host.HttpEndpoint, Timeout = Patience };
        Host.Runtime.Observe<BackendSnapshot>("e2e-snapshot-signal", _ => Interlocked.Exchange(ref _changed,
            new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult());
        Host.Runtime.Observe<SystemState>("e2e-state-signal", _ => Interlocked.Exchange(ref _changed,
            new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult());
        await WaitForIdleAndHealthyAsync();
        Assert.Equal(WarmUpRequests, Host.Config.Routing.MinSamplesForLiveMetrics);
        await Task.WhenAll(BackendIds.Select(WarmUpAsync));
        await WaitForIdleAndHealthyAsync();
    }

    private async Task WarmUpAsync(string backendId)
    {
        foreach (var model in ChatModels)
        {
            for (var i = 0; i < WarmUpRequests; i++)
            {
                // A one-token stream: the router learns a time to first token only from streams.
                using var response = await PostJsonAsync("/api/generate", new { model, prompt = "warm up", stream = true, options = new { num_predict = 1 } },
                    ("X-Target-Backend", backendId));
                var body = await response.Content.ReadAsStringAsync();
                Assert.True(response.IsSuccessStatusCode && body.Contains("\"done\":true", StringComparison.Ordinal), $"warm-up on {backendId}: {(int)response.StatusCode} {body}");
            }
        }
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Host.DisposeAsync();
    }

    /// <summary>
    /// Waits until <paramref name="condition"/> holds, re-checking whenever a backend snapshot or the
    /// system state is published, and at least every 50 ms (the selector applies a snapshot a moment
    /// after it is published). Fails with <paramref name="what"/> after <see cref="Patience"/>.
    /// </summary>
    public async Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        using var limit = new CancellationTokenSource(timeout ?? Patience);
        while (true)
        {
            var changed = Volatile.Read(ref _changed).Task;
            if (await condition()) return;
            try
            {
                await Task.WhenAny(changed, Task.Delay(50, limit.Token)).WaitAsync(limit.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"Timed out after {(timeout ?? Patience).TotalSeconds} s waiting for {what}.");
            }
        }
    }

    /// <summary>All four backends healthy with their models known, nothing in flight or queued, the simulators idle.</summary>
    public async Task WaitForIdleAndHealthyAsync(TimeSpan? timeout = null)
    {
        await WaitUntilAsync(async () =>
        {
            var backends = await Host.Runtime.GetBackendsAsync(CancellationToken.None);
            if (backends.Length != BackendIds.Length) return false;
            foreach (var b in backends)
            {
                if (b.Health != BackendHealth.Healthy || !b.ModelsKnown || b.InFlight != 0) return false;
                foreach (var depth in b.QueueDepthByPriority) if (depth != 0) return false;
            }

            foreach (var simulator in Host.Simulators) if (simulator.ActiveRequests != 0) return false;
            return true;
        }, "every backend healthy and idle, every simulator idle", timeout);
    }

    /// <summary>What GET /backends says each backend has in flight (the admin surface, not the runtime).</summary>
    public async Task<Dictionary<string, int>> InFlightFromAdminAsync()
    {
        using var doc = JsonDocument.Parse(await Http.GetStringAsync(new Uri("/backends", UriKind.Relative)));
        var result = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var b in doc.RootElement.GetProperty("backends").EnumerateArray())
        {
            result[b.GetProperty("id").GetString()!] = b.GetProperty("metrics").GetProperty("in_flight").GetInt32();
        }

        return result;
    }

    /// <summary>A request's slot is given back everywhere: GET /backends shows nothing in flight and no simulator is working.</summary>
    public Task WaitForSlotsFreedAsync(TimeSpan? timeout = null) => WaitUntilAsync(async () =>
    {
        foreach (var simulator in Host.Simulators) if (simulator.ActiveRequests != 0) return false;
        foreach (var (_, inFlight) in await InFlightFromAdminAsync()) if (inFlight != 0) return false;
        return true;
    }, "GET /backends in_flight 0 on every backend and every simulator's ActiveRequests 0", timeout);

    /// <summary>Back to the start: faults cleared, balanced mode, on AC, idle and healthy.</summary>
    public async Task ResetAsync()
    {
        foreach (var simulator in Host.Simulators)
        {
            simulator.Faults.Clear();
            if (simulator.Faults.RefuseConnections) await simulator.AcceptConnectionsAsync();
        }

        var machine = Host.Machine!;
        machine.SetAcPower(true);
        machine.SetBatteryPercent(null);
        Host.Runtime.SampleNow();
        await Host.Runtime.SetModeAsync(EfficiencyMode.Balanced, CancellationToken.None);
        // A probe now instead of at the next interval, so a backend failed on purpose recovers at once.
        // Waited for until answered: a probe still out when the next test makes a device fail would
        // report that failure before the test's own request meets it.
        var probedFrom = DateTimeOffset.UtcNow;
        ProbeAll();
        await WaitForIdleAndHealthyAsync();
        await WaitUntilAsync(async () =>
            (await Host.Runtime.GetBackendsAsync(CancellationToken.None)).All(b => b.LastCheck >= probedFrom),
            "every backend's probe since the reset answered");
    }

    /// <summary>Every backend probes its device now instead of at its next interval.</summary>
    public void ProbeAll()
    {
        foreach (var id in BackendIds)
        {
            // A probe now instead of at the next interval, so a backend failed on purpose recovers at once.
            Host.Runtime.GetBackendActor(id)?.Tell(Router.Actors.Backends.ProbeNow.Instance, Akka.Actor.ActorRefs.NoSender);
        }
    }

    public async Task<JsonElement> GetJsonAsync(string path)
    {
        using var response = await Http.GetAsync(new Uri(path, UriKind.Relative));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public async Task<HttpResponseMessage> PostJsonAsync(string path, object body, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(path, UriKind.Relative)) { Content = JsonContent.Create(body) };
        foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
        return await Http.SendAsync(request);
    }
}
