using Akka.Streams;
using Akka.Streams.Dsl;
using Router.Actors.Backends;
using Router.Actors.Inference;
using Router.Actors.Routing;

namespace Router.Tests.Inference;

public sealed class InferenceRouterTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Stream_PerformanceMode_RoutesToNvidiaAndReportsStats()
    {
        await using var router = await SimulatedRouter.StartAsync(EfficiencyMode.Performance);

        var result = await router.Router.StreamAsync(SimulatedRouter.Generate(maxTokens: 6), CancellationToken.None);

        Assert.True(result.IsOk, result.IsOk ? "" : result.Error.Message);
        await using var stream = result.Value;
        Assert.Equal("ollama-nvidia", stream.Decision.BackendId);
        Assert.Equal(RouteReasons.ModePerformance, stream.Decision.Reason);
        var (text, last) = await router.ReadAllAsync(stream);
        Assert.IsType<StreamCompleted>(last);
        Assert.False(string.IsNullOrWhiteSpace(text));
        var stats = stream.Stats!;
        Assert.Equal(6, stats.TokensGenerated);
        Assert.True(stats.TimeToFirstTokenMs > 0);
        Assert.True(stats.TotalTimeMs >= stats.TimeToFirstTokenMs);
        Assert.True(stats.EnergyWh > 0);
        await router.WaitForBackendsAsync(b => b.InFlight == 0 && b.RequestsTotal == 1, "ollama-nvidia");
    }

    [Fact]
    public async Task Stream_ChosenBackendAnswers500_FallsBackToTheNextAlternative()
    {
        await using var router = await SimulatedRouter.StartAsync(EfficiencyMode.Performance);
        router.Simulators["ollama-nvidia"].Faults.ErrorStatus = 500;

        var result = await router.Router.StreamAsync(SimulatedRouter.Generate(), CancellationToken.None);

        Assert.True(result.IsOk, result.IsOk ? "" : result.Error.Message);
        await using var stream = result.Value;
        Assert.Equal(RouteReasons.Fallback, stream.Decision.Reason);
        Assert.Equal("ollama-nvidia", Assert.Single(stream.Decision.Attempted));
        Assert.NotEqual("ollama-nvidia", stream.Decision.BackendId);
        var (_, last) = await router.ReadAllAsync(stream);
        Assert.IsType<StreamCompleted>(last);
    }

    [Fact]
    public async Task Stream_EveryBackendFails_ClientGetsTheLastBackendErrorNamingWhatWasTried()
    {
        await using var router = await SimulatedRouter.StartAsync(EfficiencyMode.Performance, maxAttempts: 2);
        foreach (var simulator in router.Simulators.Values)
        {
            simulator.Faults.ErrorStatus = 503;
        }

        var result = await router.Router.StreamAsync(SimulatedRouter.Generate(), CancellationToken.None);

        Assert.False(result.IsOk);
        Assert.NotNull(result.Error.Backend);
        Assert.Equal(2, result.Error.Attempted.Length);
        Assert.Contains("tried:", result.Error.Message, StringComparison.Ordinal);
        await router.WaitForBackendsAsync(b => b.InFlight == 0);
    }

    [Fact]
    public async Task Send_ClientErrorFromBackend_IsNotRetriedAndComesBackAsIs()
    {
        await using var router = await SimulatedRouter.StartAsync(EfficiencyMode.Performance);
        router.Simulators["ollama-nvidia"].Faults.ErrorStatus = 400;

        var result = await router.Router.SendAsync(SimulatedRouter.Generate(stream: false), CancellationToken.None);

        Assert.False(result.IsOk);
        Assert.Equal(400, result.Error.Backend!.StatusCode);
        Assert.Equal("ollama-nvidia", Assert.Single(result.Error.Attempted));
        var nvidia = (await router.WaitForBackendsAsync(b => b.InFlight == 0, "ollama-nvidia")).Single(b => b.Id == "ollama-nvidia");
        Assert.Equal(BackendHealth.Healthy, nvidia.Health); // the client's mistake is not the backend's failure
    }

    /// <summary>A request every simulated device answers with the same 500, as Ollama does for a wrongly typed option.</summary>
    private static InferenceRequest PoisonedGenerate(bool stream)
    {
        var native = System.Text.Encoding.UTF8.GetBytes($$$"""{"model":"{{{SimulatedRouter.Model}}}","prompt":"hi","stream":{{{(stream ? "true" : "false")}}},"options":{"num_predict":"many"}}""");
        return new InferenceRequest(SimulatedRouter.Model, RoutingHints.Default, new BackendRequest(BackendApi.OllamaGenerate, native, stream));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task SameErrorFromTwoDevices_IsTheRequestsFault_NoThirdTryAndNoDeviceCounted(bool stream)
    {
        await using var router = await SimulatedRouter.StartAsync(EfficiencyMode.Performance);

        // Three in a row, as an SDK that retries a 5xx twice would send: with eject-after-failures 3,
        // counting them would have ejected the devices tried.
        for (var i = 0; i < 3; i++)
        {
            var error = stream
                ? (await router.Router.StreamAsync(PoisonedGenerate(stream: true), CancellationToken.None)).Error
                : (await router.Router.SendAsync(PoisonedGenerate(stream: false), CancellationToken.None)).Error;

            Assert.Equal(2, error.Attempted.Length);
            Assert.Equal(500, error.Backend!.StatusCode);
            Assert.Contains("same error", error.Message, StringComparison.Ordinal);
            Assert.Contains("num_predict", error.Message, StringComparison.Ordinal);
        }

        var backends = await router.WaitForBackendsAsync(b => b.InFlight == 0);
        Assert.All(backends, b => Assert.Equal(BackendHealth.Healthy, b.Health));
        Assert.All(backends, b => Assert.Equal(0, b.FailuresTotal));
        Assert.Equal(6, backends.Sum(b => b.RequestsTotal));
    }

    /// <summary>A chat whose text holds a lone surrogate: the simulated devices answer it with a 500 and no body.</summary>
    private static InferenceRequest LoneSurrogateChat() =>
        new(SimulatedRouter.Model, RoutingHints.Default, new BackendRequest(BackendApi.OllamaChat,
            System.Text.Encoding.UTF8.GetBytes($$"""{"model":"{{SimulatedRouter.Model}}","stream":false,"messages":[{"role":"user","content":"hi \ud800"}]}"""), false));

    [Fact]
    public async Task SameBodylessErrorFromTwoDevices_IsTheRequestsFault_SixOfThemEjectNothing()
    {
        await using var router = await SimulatedRouter.StartAsync(EfficiencyMode.Performance);

        // Six, as two clients whose SDK retries twice would send: before, each attempt counted
        // against a device, and all four were ejected.
        for (var i = 0; i < 6; i++)
        {
            var error = (await router.Router.SendAsync(LoneSurrogateChat(), CancellationToken.None)).Error;

            Assert.Equal(500, error.Backend!.StatusCode);
            Assert.Equal(2, error.Attempted.Length);
            Assert.Contains("same error", error.Message, StringComparison.Ordinal);
        }

        var backends = await router.WaitForBackendsAsync(b => b.InFlight == 0);
        Assert.All(backends, b => Assert.Equal(BackendHealth.Healthy, b.Health));
        Assert.All(backends, b => Assert.Equal(0, b.FailuresTotal));
    }

    [Fact]
    public async Task DeviceAnswers500_NextDeviceServes_TheFailureCountsAgainstTheFirst()
    {
        await using var router = await SimulatedRouter.StartAsync(EfficiencyMode.Performance);
        router.Simulators["ollama-nvidia"].Faults.ErrorStatus = 500;

        var result = await router.Router.SendAsync(SimulatedRouter.Generate(stream: false), CancellationToken.None);

        Assert.True(result.IsOk, result.IsOk ? "" : result.Error.Message);
        Assert.Equal("ollama-nvidia", Assert.Single(result.Value.Decision.Attempted));
        await router.WaitForBackendsAsync(b => b.FailuresTotal == 1 && b.InFlight == 0, "ollama-nvidia");
    }

    [Fact]
    public async Task DeviceAnswers500_NextDeviceCallsTheRequestWrong_NeitherCounts()
    {
        await using var router = await SimulatedRouter.StartAsync(EfficiencyMode.Performance);
        foreach (var (id, simulator) in router.Simulators)
        {
            simulator.Faults.ErrorStatus = id == "ollama-nvidia" ? 500 : 400;
        }

        var result = await router.Router.SendAsync(SimulatedRouter.Generate(stream: false), CancellationToken.None);

        Assert.False(result.IsOk);
        Assert.Equal(400, result.Error.Backend!.StatusCode);
        Assert.Equal(2, result.Error.Attempted.Length);
        var backends = await router.WaitForBackendsAsync(b => b.InFlight == 0);
        Assert.All(backends, b => Assert.Equal(0, b.FailuresTotal));
    }

    [Fact]
    public async Task DeviceAnswers500_NoOtherAttempt_TheFailureCountsAgainstIt()
    {
        await using var router = await SimulatedRouter.StartAsync(EfficiencyMode.Performance, maxAttempts: 1);
        router.Simulators["ollama-nvidia"].Faults.ErrorStatus = 500;

        var result = await router.Router.SendAsync(SimulatedRouter.Generate(stream: false), CancellationToken.None);

        Assert.False(result.IsOk);
        await router.WaitForBackendsAsync(b => b.FailuresTotal == 1 && b.InFlight == 0, "ollama-nvidia");
    }

    [Fact]
    public async Task Send_NonStreaming_ReturnsTheBackendBodyWithUsage()
    {
        await using var router = await SimulatedRouter.StartAsync(EfficiencyMode.Performance);

        var result = await router.Router.SendAsync(SimulatedRouter.Generate(stream: false, maxTokens: 5), CancellationToken.None);

        Assert.True(result.IsOk, result.IsOk ? "" : result.Error.Message);
        Assert.Equal(200, result.Value.Response.StatusCode);
        Assert.Equal(5, result.Value.Stats.TokensGenerated);
        Assert.Contains("\"done\":true", System.Text.Encoding.UTF8.GetString(result.Value.Response.Body.Span), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stream_BackendKilledMidRun_InFlightEndsWithClearErrorNewGoElsewhereAndItReturnsAfterProbe()
    {
        await using var router = await SimulatedRouter.StartAsync(
            EfficiencyMode.Performance,
            backend: b => b with
            {
                Health = b.Health with
                {
                    EjectAfterFailures = 1,
                    BaseEjection = TimeSpan.FromMilliseconds(300),
                    UnhealthyInterval = TimeSpan.FromMilliseconds(100),
                },
            });
        var nvidia = router.Simulators["ollama-nvidia"];
        // Slow tokens, so the first ones reach the router before the connection drops (a drop
        // before the first byte would rightly be retried elsewhere).
        nvidia.Faults.SlowTokenDelay = TimeSpan.FromMilliseconds(30);
        nvidia.Faults.DropAfterTokens = 3;

        var first = await router.Router.StreamAsync(SimulatedRouter.Generate(maxTokens: 20), CancellationToken.None);
        Assert.True(first.IsOk);
        await using (var stream = first.Value)
        {
            Assert.Equal("ollama-nvidia", stream.Decision.BackendId);
            var (_, last) = await router.ReadAllAsync(stream);
            var failed = Assert.IsType<StreamFailed>(last);
            Assert.Equal(BackendErrorKind.StreamBroken, failed.Error.Kind);
        }

        // The device is gone: connections refused. The broken stream took it out of service.
        nvidia.Faults.Clear();
        await nvidia.RefuseConnectionsAsync();
        await router.WaitForBackendsAsync(b => b.Health != BackendHealth.Healthy, "ollama-nvidia");
        for (var i = 0; i < 3; i++)
        {
            var next = await router.Router.StreamAsync(SimulatedRouter.Generate(), CancellationToken.None);
            Assert.True(next.IsOk, next.IsOk ? "" : next.Error.Message);
            await using var stream = next.Value;
            Assert.NotEqual("ollama-nvidia", stream.Decision.BackendId);
            Assert.IsType<StreamCompleted>((await router.ReadAllAsync(stream)).Last);
        }

        // It comes back once a probe succeeds, and takes requests again.
        await nvidia.AcceptConnectionsAsync();
        router.Runtime.GetBackendActor("ollama-nvidia")!.Tell(ProbeNow.Instance, Akka.Actor.ActorRefs.NoSender);
        await router.WaitForBackendsAsync(b => b.Health == BackendHealth.Healthy, "ollama-nvidia");
        var back = await router.Router.StreamAsync(SimulatedRouter.Generate(), CancellationToken.None);
        Assert.True(back.IsOk);
        await using (var stream = back.Value)
        {
            Assert.Equal("ollama-nvidia", stream.Decision.BackendId);
            Assert.IsType<StreamCompleted>((await router.ReadAllAsync(stream)).Last);
        }
    }

    [Fact]
    public async Task Route_ModelOnOneBackendOnly_GoesThereAndAMissingModelFailsClearly()
    {
        await using var router = await SimulatedRouter.StartAsync(
            EfficiencyMode.Performance,
            profile: p => p.Hardware == "cpu" ? p with { Models = [.. p.Models, "codellama:7b"] } : p);

        var only = await router.Router.StreamAsync(SimulatedRouter.Generate(model: "codellama:7b"), CancellationToken.None);
        Assert.True(only.IsOk, only.IsOk ? "" : only.Error.Message);
        await using (var stream = only.Value)
        {
            Assert.Equal("ollama-cpu", stream.Decision.BackendId);
            Assert.Equal(RouteReasons.OnlyCandidate, stream.Decision.Reason);
            await router.ReadAllAsync(stream);
        }

        var missing = await router.Router.StreamAsync(SimulatedRouter.Generate(model: "no-such-model"), CancellationToken.None);
        Assert.False(missing.IsOk);
        Assert.Equal(RouteFailureKind.ModelNotAvailable, missing.Error.Route!.Kind);
        Assert.Contains("not available on any healthy backend", missing.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stream_QueueFullAtRequestPriority_FailsWithQueueFullAndRetryAfter()
    {
        await using var router = await SimulatedRouter.StartAsync(
            EfficiencyMode.Performance,
            backend: b => b with { QueueLimits = [0, 0, 0, 0] });
        var hints = new RoutingHints { Target = "ollama-nvidia", Priority = Priority.BestEffort };
        router.Simulators["ollama-nvidia"].Faults.Hang = true;
        using var holdSlot = new CancellationTokenSource();
        var holder = router.Router.StreamAsync(SimulatedRouter.Generate(hints: hints), holdSlot.Token).AsTask();
        await router.WaitForBackendsAsync(b => b.InFlight == 1, "ollama-nvidia");

        var rejected = await router.Router.StreamAsync(SimulatedRouter.Generate(hints: hints), CancellationToken.None);

        Assert.False(rejected.IsOk);
        Assert.Equal(RouteFailureKind.QueueFull, rejected.Error.Route!.Kind);
        Assert.True(rejected.Error.Route.RetryAfter >= TimeSpan.FromSeconds(1));
        await holdSlot.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => holder);
        router.Simulators["ollama-nvidia"].Faults.Hang = false;
        await router.WaitForBackendsAsync(b => b.InFlight == 0, "ollama-nvidia");
    }

    [Fact]
    public async Task Stream_ThousandsOfRequestsCancelledAtRandomPoints_LeakNoSlotAndNoBackendRequest()
    {
        await using var router = await SimulatedRouter.StartAsync(
            EfficiencyMode.Balanced,
            timeScale: 0.002,
            backend: b => b with { MaxConcurrent = 2, QueueLimits = [5000, 5000, 5000, 5000] });
        var random = new Random(7);
        const int Requests = 2000;
        var tasks = new List<Task>(Requests);
        for (var i = 0; i < Requests; i++)
        {
            var hints = new RoutingHints { Priority = (Priority)(i % 4) };
            var cancelAfterEvents = random.Next(0, 4); // 0: cancel before admission completes
            var cancelEarly = random.Next(2) == 0;
            tasks.Add(RunOne(hints, cancelAfterEvents, cancelEarly));
        }

        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromMinutes(2));

        await router.WaitForBackendsAsync(b => b.InFlight == 0 && b.QueueDepthByPriority.Sum() == 0 && b.Health == BackendHealth.Healthy);
        foreach (var simulator in router.Simulators.Values)
        {
            await simulator.WaitUntilAsync(s => s.ActiveRequests == 0, new CancellationTokenSource(Wait).Token);
        }

        async Task RunOne(RoutingHints hints, int cancelAfterEvents, bool cancelEarly)
        {
            using var cts = new CancellationTokenSource();
            if (cancelEarly)
            {
                cts.CancelAfter(random.Next(0, 3));
            }

            try
            {
                var result = await router.Router.StreamAsync(SimulatedRouter.Generate(hints: hints, maxTokens: 4), cts.Token);
                if (!result.IsOk)
                {
                    return;
                }

                await using var stream = result.Value;
                // Walk away mid-stream: cancelling the source must cancel the backend call.
                await stream.Events.Take(cancelAfterEvents).RunWith(Sink.Ignore<StreamEvent>(), router.Runtime.System.Materializer()).WaitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    [Fact]
    public async Task Stream_CriticalArrivesWhileBestEffortStreams_BestEffortIsShedWithAClearErrorAndCriticalIsServed()
    {
        await using var router = await SimulatedRouter.StartAsync(EfficiencyMode.Performance);
        router.Simulators["ollama-nvidia"].Faults.SlowTokenDelay = TimeSpan.FromMilliseconds(20);
        var bestEffortHints = new RoutingHints { Target = "nvidia", Priority = Priority.BestEffort };
        var result = await router.Router.StreamAsync(SimulatedRouter.Generate(hints: bestEffortHints, maxTokens: 200), CancellationToken.None);
        Assert.True(result.IsOk);
        await using var bestEffort = result.Value;

        var critical = await router.Router.StreamAsync(
            SimulatedRouter.Generate(hints: new RoutingHints { Target = "nvidia", Priority = Priority.Critical }, maxTokens: 3),
            CancellationToken.None);

        Assert.True(critical.IsOk, critical.IsOk ? "" : critical.Error.Message);
        await using (var stream = critical.Value)
        {
            Assert.Equal("ollama-nvidia", stream.Decision.BackendId);
            Assert.IsType<StreamCompleted>((await router.ReadAllAsync(stream)).Last);
        }

        var (_, last) = await router.ReadAllAsync(bestEffort);
        var failed = Assert.IsType<StreamFailed>(last);
        Assert.Equal(BackendErrorKind.Preempted, failed.Error.Kind);
        Assert.Contains("critical request", failed.Error.Message, StringComparison.Ordinal);
        var nvidia = (await router.WaitForBackendsAsync(b => b.InFlight == 0, "ollama-nvidia")).Single(b => b.Id == "ollama-nvidia");
        Assert.Equal(1, nvidia.PreemptedTotal);
        Assert.Equal(BackendHealth.Healthy, nvidia.Health);
    }

    [Fact]
    public async Task Observer_Throws_RequestIsServedAndTheFailureLogged()
    {
        var logs = new CapturingLoggers();
        await using var router = await SimulatedRouter.StartAsync(EfficiencyMode.Performance, observer: new ThrowingObserver());
        router.Runtime.UseLogger(logs);

        var result = await router.Router.SendAsync(SimulatedRouter.Generate(stream: false), CancellationToken.None);

        Assert.True(result.IsOk);
        var logged = Assert.Single(logs.Entries, e => e.EventId == 1300);
        Assert.IsType<InvalidOperationException>(logged.Exception);
    }

    private sealed class ThrowingObserver : IRequestObserver
    {
        public void OnRequestFinished(RequestRecord record) => throw new InvalidOperationException("metrics broke");

        public void OnRequestRejected(RouteFailureKind kind, Priority priority) => throw new InvalidOperationException("metrics broke");
    }

    private sealed class CapturingLoggers : Microsoft.Extensions.Logging.ILoggerFactory, Microsoft.Extensions.Logging.ILogger
    {
        public void AddProvider(Microsoft.Extensions.Logging.ILoggerProvider provider)
        {
        }

        public System.Collections.Concurrent.ConcurrentQueue<(int EventId, Exception? Exception)> Entries { get; } = new();

        public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Enqueue((eventId.Id, exception));

        public void Dispose()
        {
        }
    }
}
