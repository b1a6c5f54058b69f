using System.Collections.Immutable;
using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;
using Router.Actors.Backends;
using Router.Actors.Config;
using Router.Actors.Inference;
using Router.Actors.Routing;
using Router.Tests.Backends;
using Router.Tests.TestKit;

namespace Router.Tests.Inference;

/// <summary>
/// A request queued behind a device that does not answer moves on when its wait runs out, instead
/// of waiting out every first-byte timeout ahead of it. Two fake devices, the router's real actors,
/// and the request path's clock under the test's hand.
/// </summary>
public sealed class QueueWaitTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = AkkaTestConfig.Patience;
    private readonly FakeTimeProvider _time = new();
    private readonly Dictionary<string, FakeBackendClient> _clients = new(StringComparer.Ordinal)
    {
        ["ollama-fast"] = new("ollama-fast"),
        ["ollama-slow"] = new("ollama-slow"),
    };
    private RouterRuntime _runtime = null!;

    public async Task InitializeAsync()
    {
        var config = new RouterConfig
        {
            Routing = new RoutingConfig { DefaultMode = EfficiencyMode.Performance, MaxAttempts = 3 },
            Backends =
            [
                new BackendConfig { Id = "ollama-fast", Hardware = "nvidia", Endpoint = new Uri("http://127.0.0.1:1"), PowerWatts = 55, AvgLatencyMs = 100 },
                new BackendConfig { Id = "ollama-slow", Hardware = "cpu", Endpoint = new Uri("http://127.0.0.1:2"), PowerWatts = 28, AvgLatencyMs = 5000 },
            ],
        };
        _runtime = await RouterRuntime.StartAsync(config, new RouterRuntimeOptions
        {
            TimeProvider = _time,
            ClientFactory = backend => _clients[backend.Id],
            ActorSystemOverrides = AkkaTestConfig.VirtualTimeHocon,
        });
        await UntilAsync(backends => backends.All(b => b.Health == BackendHealth.Healthy && b.ModelsKnown));
    }

    public async Task DisposeAsync() => await _runtime.DisposeAsync();

    private static InferenceRequest Request(int? maxLatencyMs = null) =>
        new("llama3.2:1b", RoutingHints.Default with { MaxLatencyMs = maxLatencyMs },
            new BackendRequest(BackendApi.OllamaGenerate, """{"model":"llama3.2:1b","prompt":"hi"}"""u8.ToArray(), Stream: true));

    /// <summary>The fast device takes the first request and then says nothing more: it holds its only slot.</summary>
    private async Task<IInferenceStream> HangTheFastDeviceAsync()
    {
        _clients["ollama-fast"].OnStream = (_, _) =>
        {
            var channel = Channel.CreateUnbounded<StreamEvent>();
            channel.Writer.TryWrite(new StreamChunk("""{"response":"a"}"""u8.ToArray(), "a"));
            return channel.Reader;
        };
        var first = await _runtime.Router.StreamAsync(Request(), CancellationToken.None);
        Assert.Equal("ollama-fast", first.Value.Decision.BackendId);
        return first.Value;
    }

    private async Task UntilAsync(Func<ImmutableArray<BackendSnapshot>, bool> condition, Task? request = null)
    {
        using var timeout = new CancellationTokenSource(Wait);
        ImmutableArray<BackendSnapshot> last = [];
        while (!condition(last = await _runtime.GetBackendsAsync(timeout.Token)))
        {
            // A request that ended instead of queueing would leave the wait to its timeout: say why at once.
            Assert.False(request?.IsCompleted == true, "the request ended without queueing: " + string.Join("; ", last.Select(b => $"{b.Id} {b.Health} in flight {b.InFlight} queued {b.QueueDepthByPriority.Sum()}")));
            await Task.Yield();
        }
    }

    [Fact]
    public async Task Queued_WaitRunsOut_MovesToTheNextDeviceWithoutCountingAgainstTheFirst()
    {
        await using var hung = await HangTheFastDeviceAsync();

        var second = _runtime.Router.StreamAsync(Request(), CancellationToken.None).AsTask();
        await UntilAsync(b => b.Single(x => x.Id == "ollama-fast").QueueDepthByPriority.Sum() == 1, second);
        Assert.False(second.IsCompleted);

        _time.Advance(new RoutingConfig().QueueWaitFor(Priority.Normal)); // a normal request's longest wait

        var moved = await second.WaitAsync(Wait);
        Assert.True(moved.IsOk);
        await using var stream = moved.Value;
        Assert.Equal("ollama-slow", stream.Decision.BackendId);
        Assert.Contains("ollama-fast", stream.Decision.Attempted);
        await UntilAsync(b => b.Single(x => x.Id == "ollama-fast").QueueDepthByPriority.Sum() == 0);
        Assert.Equal(0, (await _runtime.GetBackendsAsync(CancellationToken.None)).Single(b => b.Id == "ollama-fast").FailuresTotal);
    }

    [Fact]
    public async Task Queued_OwnLatencyBudgetIsShorter_ItDecidesTheWait()
    {
        await using var hung = await HangTheFastDeviceAsync();
        await UntilAsync(b => b.Single(x => x.Id == "ollama-fast").InFlight == 1);
        // A budget the fast device is expected to meet, queue included, but far below a normal
        // request's longest wait (60 s): once it has passed, the request must not be waiting still.
        var estimate = (await _runtime.Router.ExplainAsync("llama3.2:1b", RoutingHints.Default, CancellationToken.None)).Value;
        Assert.Equal("ollama-fast", estimate.BackendId);
        var budget = TimeSpan.FromMilliseconds(estimate.Estimate.LatencyMs + 500);
        Assert.True(budget < new RoutingConfig().QueueWaitFor(Priority.Normal), $"the fast device's estimate {estimate.Estimate.LatencyMs} ms is too long for this test");

        var second = _runtime.Router.StreamAsync(Request(maxLatencyMs: (int)budget.TotalMilliseconds), CancellationToken.None).AsTask();
        await UntilAsync(b => b.Single(x => x.Id == "ollama-fast").QueueDepthByPriority.Sum() == 1, second);
        _time.Advance(budget);

        var outcome = await second.WaitAsync(Wait);
        await UntilAsync(b => b.Single(x => x.Id == "ollama-fast").QueueDepthByPriority.Sum() == 0);
        if (outcome.IsOk)
        {
            await using var moved = outcome.Value;
            Assert.Equal("ollama-slow", moved.Decision.BackendId);
        }
        else
        {
            Assert.Contains("in backend 'ollama-fast''s queue", outcome.Error.Message, StringComparison.Ordinal);
        }
    }
}
