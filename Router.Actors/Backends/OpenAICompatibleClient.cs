using System.Collections.Immutable;
using System.Threading.Channels;
using Router.Actors.Config;

namespace Router.Actors.Backends;

/// <summary>
/// A client of any OpenAI-compatible server (llama.cpp server, vLLM, LM Studio): only the OpenAI
/// APIs, streamed as server-sent events; the API key, when configured, goes as a bearer token.
/// </summary>
public sealed class OpenAICompatibleClient : IBackendClient
{
    private readonly BackendHttpTransport _transport;
    private readonly HealthCheckConfig _health;

    public OpenAICompatibleClient(BackendConfig config, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        _transport = new BackendHttpTransport(config.Id, config.Endpoint, config.Timeouts, config.ApiKey, timeProvider ?? TimeProvider.System);
        _health = config.Health;
    }

    public string BackendId => _transport.BackendId;

    public bool Supports(BackendApi api) => BackendPaths.IsOpenAI(api);

    public Task<Result<BackendResponse, BackendError>> SendAsync(BackendRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Supports(request.Api)
            ? _transport.SendAsync(HttpMethod.Post, BackendPaths.For(request.Api), request.Body, request.Api, cancellationToken)
            : Task.FromResult<Result<BackendResponse, BackendError>>(NotSupported(request.Api));
    }

    public ChannelReader<StreamEvent> Stream(BackendRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!Supports(request.Api))
        {
            Channel<StreamEvent> failed = Channel.CreateBounded<StreamEvent>(1);
            failed.Writer.TryWrite(new StreamFailed(NotSupported(request.Api)));
            failed.Writer.TryComplete();
            return failed.Reader;
        }

        return _transport.Stream(BackendPaths.For(request.Api), request.Body, request.Api, StreamFraming.Sse, cancellationToken);
    }

    public Task<Result<TimeSpan, BackendError>> ProbeAsync(CancellationToken cancellationToken) =>
        _transport.ProbeAsync(BackendPaths.OpenAIModels, _health.Timeout, cancellationToken);

    public async Task<Result<ImmutableArray<BackendModel>, BackendError>> ListModelsAsync(CancellationToken cancellationToken)
    {
        Result<BackendResponse, BackendError> result = await _transport
            .SendAsync(HttpMethod.Get, BackendPaths.OpenAIModels, default, null, cancellationToken).ConfigureAwait(false);
        return result.IsOk ? ModelListParser.ParseOpenAIModels(BackendId, result.Value.Body) : result.Error;
    }

    public Task<Result<BackendResponse, BackendError>> PassthroughAsync(HttpMethod method, string path, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentException.ThrowIfNullOrEmpty(path);
        return _transport.SendAsync(method, path, body, null, cancellationToken);
    }

    public void Dispose() => _transport.Dispose();

    private BackendError NotSupported(BackendApi api) =>
        new(BackendErrorKind.NotSupported, $"Backend '{BackendId}' is OpenAI-compatible and does not offer {api}.");
}
