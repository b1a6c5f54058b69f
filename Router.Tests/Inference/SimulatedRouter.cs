using System.Collections.Immutable;
using Akka.Streams;
using Akka.Streams.Dsl;
using System.Text;
using Router.Actors.Backends;
using Router.Actors.Config;
using Router.Actors.Inference;
using Router.Actors.Inspection;
using Router.Actors.Routing;
using Router.Gateway.Simulation;

namespace Router.Tests.Inference;

/// <summary>
/// The router runtime over the four simulated devices on loopback, sped up. Each test gets its own
/// (ports are ephemeral) and disposes it, which stops every server it started.
/// </summary>
internal sealed class SimulatedRouter : IAsyncDisposable
{
    public const string Model = "llama3.2:1b";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private SimulatedRouter(RouterRuntime runtime, ImmutableDictionary<string, SimulatedBackend> simulators)
    {
        Runtime = runtime;
        Simulators = simulators;
    }

    public RouterRuntime Runtime { get; }
    public IInferenceRouter Router => Runtime.Router;
    /// <summary>Simulated device per backend id.</summary>
    public ImmutableDictionary<string, SimulatedBackend> Simulators { get; }

    public static async Task<SimulatedRouter> StartAsync(
        EfficiencyMode mode = EfficiencyMode.Performance,
        double timeScale = 0.01,
        Func<BackendConfig, BackendConfig>? backend = null,
        Func<DeviceProfile, DeviceProfile>? profile = null,
        int maxAttempts = 3,
        IRequestObserver? observer = null)
    {
        var ids = new[] { ("ollama-npu", DeviceProfile.Npu, 1), ("ollama-igpu", DeviceProfile.Igpu, 2), ("ollama-nvidia", DeviceProfile.Nvidia, 3), ("ollama-cpu", DeviceProfile.Cpu, 0) };
        var simulators = ImmutableDictionary.CreateBuilder<string, SimulatedBackend>();
        var backends = ImmutableArray.CreateBuilder<BackendConfig>();
        try
        {
            foreach (var (id, device, priority) in ids)
            {
                var deviceProfile = profile is null ? device : profile(device);
                var simulator = await SimulatedBackend.StartAsync(deviceProfile, new SimulatorOptions { TimeScale = timeScale });
                simulators[id] = simulator;
                var config = new BackendConfig
                {
                    Id = id,
                    Name = id,
                    Hardware = device.Hardware,
                    Endpoint = simulator.Endpoint,
                    PowerWatts = device.PowerWatts,
                    AvgLatencyMs = device.TimeToFirstToken.TotalMilliseconds,
                    Priority = priority,
                    Timeouts = new BackendTimeouts { Connect = TimeSpan.FromSeconds(2), FirstByte = TimeSpan.FromSeconds(5), Idle = TimeSpan.FromSeconds(5) },
                };
                backends.Add(backend is null ? config : backend(config));
            }

            var routerConfig = new RouterConfig
            {
                Backends = backends.ToImmutable(),
                Routing = new RoutingConfig { DefaultMode = mode, MaxAttempts = maxAttempts },
            };
            // The simulator runs faster than real time, so live latencies would not compare with the
            // configured ones: route on the configured characteristics only, as the tests expect.
            var runtime = await RouterRuntime.StartAsync(routerConfig, new RouterRuntimeOptions
            {
                Scoring = ScoringOptions.FromConfig(routerConfig.Routing) with { MinSamples = int.MaxValue },
                Observer = observer,
            });
            var router = new SimulatedRouter(runtime, simulators.ToImmutable());
            await router.WaitForBackendsAsync(b => b.Health == BackendHealth.Healthy && b.ModelsKnown);
            return router;
        }
        catch
        {
            foreach (var simulator in simulators.Values)
            {
                await simulator.DisposeAsync();
            }

            throw;
        }
    }

    public async Task<ImmutableArray<BackendSnapshot>> WaitForBackendsAsync(Func<BackendSnapshot, bool> condition, string? only = null)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (true)
        {
            var backends = await Runtime.GetBackendsAsync(CancellationToken.None);
            var ok = true;
            foreach (var backend in backends)
            {
                if ((only is null || backend.Id == only) && !condition(backend))
                {
                    ok = false;
                }
            }

            if (ok)
            {
                return backends;
            }

            if (DateTime.UtcNow >= deadline)
            {
                Assert.Fail("backends never reached the expected state: " + string.Join("; ", backends.Select(b => $"{b.Id} {b.Health} in-flight {b.InFlight} queue {b.QueueDepthByPriority.Sum()} last check {b.LastCheck:O}"))
                    + $"\n{Diagnose()}");
            }

            await Task.Delay(10);
        }
    }

    // What a hang looks like from outside: did the devices see the probes, are messages stuck in a
    // backend actor's mailbox, is the thread pool starved.
    private string Diagnose()
    {
        var lines = new StringBuilder();
        lines.Append($"thread pool: {ThreadPool.ThreadCount} threads, {ThreadPool.PendingWorkItemCount} items waiting\n");
        foreach (var (id, simulator) in Simulators)
        {
            lines.Append($"device {id}: {simulator.ConnectionsAccepted} connections, {simulator.RequestsServed} requests served, {simulator.ActiveRequests} active\n");
        }

        void Walk(ActorNodeSnapshot node)
        {
            lines.Append($"{node.Path}: waiting {node.MessagesWaiting}, restarts {node.Restarts} {node.LastFailure}\n");
            foreach (var child in node.Children) Walk(child);
        }

        if (ActorTreeInspector.Inspect(Runtime.System, "/user/backends") is { } tree)
        {
            Walk(tree.Root);
        }
        return lines.ToString();
    }

    public static InferenceRequest Generate(string prompt = "why is the sky blue?", RoutingHints? hints = null, string model = Model, bool stream = true, int maxTokens = 8)
    {
        var native = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new { model, prompt, stream, options = new { num_predict = maxTokens } });
        return new InferenceRequest(model, hints ?? RoutingHints.Default, new BackendRequest(BackendApi.OllamaGenerate, native, stream)) { ExpectedTokens = maxTokens };
    }

    /// <summary>Runs a stream's Akka.Streams source to its end; returns the text and the last event.</summary>
    public async Task<(string Text, StreamEvent Last)> ReadAllAsync(IInferenceStream stream)
    {
        var events = await stream.Events.RunWith(Sink.Seq<StreamEvent>(), Runtime.System.Materializer()).WaitAsync(Wait);
        var text = new StringBuilder();
        foreach (var item in events)
        {
            if (item is StreamChunk chunk)
            {
                text.Append(chunk.Text);
            }
        }

        return (text.ToString(), events.Count > 0 ? events[^1] : throw new InvalidOperationException("the stream had no events"));
    }

    public async ValueTask DisposeAsync()
    {
        await Runtime.DisposeAsync();
        foreach (var simulator in Simulators.Values)
        {
            await simulator.DisposeAsync();
        }
    }
}
