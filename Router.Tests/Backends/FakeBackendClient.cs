using System.Collections.Immutable;
using System.Threading.Channels;
using Router.Actors.Backends;

namespace Router.Tests.Backends;

/// <summary>A backend client whose answers the test sets: probe health, models, and call results.</summary>
internal sealed class FakeBackendClient : IBackendClient
{
    private volatile BackendError? _probeError;
    private ImmutableArray<BackendModel> _models = [new BackendModel("llama3.2:1b")];
    private int _probes;

    public FakeBackendClient(string backendId) => BackendId = backendId;

    public string BackendId { get; }
    public int Probes => Volatile.Read(ref _probes);

    /// <summary>Makes the next probes fail (null: succeed).</summary>
    public void FailProbes(BackendError? error) => _probeError = error;

    public void SetModels(params string[] names) =>
        _models = [.. names.Select(n => new BackendModel(n))];

    /// <summary>Produces a stream for each call; the default streams three tokens and completes.</summary>
    public Func<BackendRequest, CancellationToken, ChannelReader<StreamEvent>>? OnStream { get; set; }

    public bool Supports(BackendApi api) => true;

    public Task<Result<BackendResponse, BackendError>> SendAsync(BackendRequest request, CancellationToken cancellationToken) =>
        Task.FromResult(Result<BackendResponse, BackendError>.Ok(new BackendResponse(200, "{}"u8.ToArray(), new BackendUsage(1, 3))));

    public ChannelReader<StreamEvent> Stream(BackendRequest request, CancellationToken cancellationToken)
    {
        if (OnStream is { } onStream)
        {
            return onStream(request, cancellationToken);
        }

        var channel = Channel.CreateUnbounded<StreamEvent>();
        foreach (var token in new[] { "a", "b", "c" })
        {
            channel.Writer.TryWrite(new StreamChunk(System.Text.Encoding.UTF8.GetBytes($"{{\"response\":\"{token}\"}}"), token));
        }

        channel.Writer.TryWrite(new StreamCompleted(new BackendUsage(1, 3)));
        channel.Writer.Complete();
        return channel.Reader;
    }

    /// <summary>While set, probes do not answer until the gate opens (or the probe is cancelled).</summary>
    public TaskCompletionSource? ProbeGate { get; set; }

    public async Task<Result<TimeSpan, BackendError>> ProbeAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _probes);
        if (ProbeGate is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken);
        }

        return (_probeError is { } error
            ? Result<TimeSpan, BackendError>.Fail(error)
            : Result<TimeSpan, BackendError>.Ok(TimeSpan.FromMilliseconds(1)));
    }

    public Task<Result<ImmutableArray<BackendModel>, BackendError>> ListModelsAsync(CancellationToken cancellationToken) =>
        Task.FromResult(_probeError is { } error
            ? Result<ImmutableArray<BackendModel>, BackendError>.Fail(error)
            : Result<ImmutableArray<BackendModel>, BackendError>.Ok(_models));

    public Task<Result<BackendResponse, BackendError>> PassthroughAsync(HttpMethod method, string path, ReadOnlyMemory<byte> body, CancellationToken cancellationToken) =>
        Task.FromResult(Result<BackendResponse, BackendError>.Ok(new BackendResponse(200, "{}"u8.ToArray(), BackendUsage.None)));

    public void Dispose()
    {
    }
}
