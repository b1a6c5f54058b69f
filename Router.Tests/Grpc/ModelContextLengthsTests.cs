using System.Collections.Immutable;
using Router.Actors.Backends;
using Router.Actors.Inference;
using Router.Actors.Routing;
using Router.Gateway.Grpc.Services;
using Router.Tests.Telemetry;

namespace Router.Tests.Grpc;

public sealed class ModelContextLengthsTests
{
    private readonly Microsoft.Extensions.Time.Testing.FakeTimeProvider _time = TestClock.Create();
    private readonly ShowingClient _client = new();

    private static readonly BackendSnapshot Backend = new()
    {
        Id = "ollama-npu",
        Models = ImmutableHashSet.Create("llama3.2:1b", "nomic-embed-text", "qwen2.5:0.5b"),
    };

    private ModelContextLengths Lengths() => new(new OneClientAdmin(_client), _time);

    [Fact]
    public async Task MaxContext_ModelsOfABackend_LongestAskedOnceEach()
    {
        _client.Lengths["llama3.2:1b"] = 131072;
        _client.Lengths["nomic-embed-text"] = 8192;
        _client.Lengths["qwen2.5:0.5b"] = 32768;
        var lengths = Lengths();

        Assert.Equal(131072, await lengths.MaxContextAsync(Backend, default));
        Assert.Equal(131072, await lengths.MaxContextAsync(Backend, default));
        Assert.Equal(3, _client.Asked);
    }

    [Fact]
    public async Task MaxContext_BackendCannotSay_ZeroThenAskedAgainLater()
    {
        var lengths = Lengths();

        Assert.Equal(0, await lengths.MaxContextAsync(Backend, default));
        Assert.Equal(0, await lengths.MaxContextAsync(Backend, default));
        Assert.Equal(3, _client.Asked);

        _client.Lengths["qwen2.5:0.5b"] = 32768;
        _time.Advance(ModelContextLengths.RetryAfter);

        Assert.Equal(32768, await lengths.MaxContextAsync(Backend, default));
        Assert.Equal(6, _client.Asked);
    }

    [Fact]
    public async Task MaxContext_NoClientOrNoModels_Zero()
    {
        var lengths = Lengths();

        Assert.Equal(0, await lengths.MaxContextAsync(Backend with { Id = "unknown" }, default));
        Assert.Equal(0, await lengths.MaxContextAsync(Backend with { Models = [] }, default));
        Assert.Equal(0, _client.Asked);
    }

    /// <summary>A backend whose /api/show answers from <see cref="Lengths"/>, and fails for any other model.</summary>
    private sealed class ShowingClient : IBackendClient
    {
        private int _asked;

        public System.Collections.Concurrent.ConcurrentDictionary<string, int> Lengths { get; } = new();
        public int Asked => Volatile.Read(ref _asked);
        public string BackendId => "ollama-npu";

        public Task<Result<int, BackendError>> GetContextLengthAsync(string model, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _asked);
            return Task.FromResult(Lengths.TryGetValue(model, out var length)
                ? Result<int, BackendError>.Ok(length)
                : new BackendError(BackendErrorKind.ConnectFailed, "refused"));
        }

        public bool Supports(BackendApi api) => true;
        public Task<Result<BackendResponse, BackendError>> SendAsync(BackendRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();
        public System.Threading.Channels.ChannelReader<StreamEvent> Stream(BackendRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<Result<TimeSpan, BackendError>> ProbeAsync(CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<Result<ImmutableArray<BackendModel>, BackendError>> ListModelsAsync(CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<Result<BackendResponse, BackendError>> PassthroughAsync(HttpMethod method, string path, ReadOnlyMemory<byte> body, CancellationToken cancellationToken) => throw new NotSupportedException();

        public void Dispose()
        {
        }
    }

    private sealed class OneClientAdmin(IBackendClient client) : IRouterAdmin
    {
        public ValueTask<ImmutableArray<BackendSnapshot>> GetBackendsAsync(CancellationToken cancellationToken) => ValueTask.FromResult(ImmutableArray.Create(Backend));
        public ValueTask<SystemState> GetSystemStateAsync(CancellationToken cancellationToken) => ValueTask.FromResult(SystemState.Default);
        public ValueTask<SystemState> SetModeAsync(EfficiencyMode mode, CancellationToken cancellationToken) => ValueTask.FromResult(SystemState.Default);
        public IBackendClient? GetClient(string backendId) => backendId == client.BackendId ? client : null;
        public Router.Actors.Inspection.ActorTreeSnapshot? InspectActors(string path) => null;
    }
}
