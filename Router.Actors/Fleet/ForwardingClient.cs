using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Threading.Channels;
using Router.Actors.Backends;
using Router.Actors.Config;
using Router.Actors.Routing;

namespace Router.Actors.Fleet;

/// <summary>
/// A backend of another fleet node, reached through that node's HTTP surface with the same API
/// (the same path and body as the client sent), the target backend, the hop header (so the peer
/// never forwards it again) and the fleet's shared secret. The peer's slot gate, priority queue
/// and health decide there; streams come back through the same bounded reader as a local
/// backend's, so backpressure reaches the peer's socket.
/// </summary>
/// <remarks>
/// When the node leaves or becomes unreachable, <see cref="NodeLost"/> ends every call in flight:
/// before its first event it fails as a connection failure (the router tries the next
/// alternative), after it as a broken stream (the client gets the documented error). A peer that
/// refuses for a full queue (429) is skipped like a local backend whose queue is full.
/// </remarks>
internal sealed class ForwardingClient : IBackendClient
{
    /// <summary>The peer enforces its device's own timeouts; these only guard against a peer that stops answering while it stays in the fleet.</summary>
    private static readonly BackendTimeouts ForwardTimeouts = new()
    {
        Connect = TimeSpan.FromSeconds(5),
        FirstByte = TimeSpan.FromMinutes(10),
        Idle = TimeSpan.FromMinutes(5),
    };

    private readonly BackendHttpTransport _transport;
    private readonly string _node;
    private readonly string _type;
    private readonly CancellationTokenSource _lost = new();
    private string? _lostReason;

    /// <param name="backendId">The fleet-wide id, <c>node/backend</c>.</param>
    /// <param name="ownerBackendId">The backend's id on its node.</param>
    public ForwardingClient(string backendId, string node, string ownerBackendId, string type, Uri nodeEndpoint, string sharedSecret, TimeProvider time)
    {
        BackendId = backendId;
        _node = node;
        _type = type;
        _transport = new BackendHttpTransport(backendId, nodeEndpoint, ForwardTimeouts, apiKey: null, time,
        [
            new(FleetHeaders.Hop, "1"),
            new(FleetHeaders.Secret, sharedSecret),
            new("X-Target-Backend", ownerBackendId),
        ]);
    }

    public string BackendId { get; }

    /// <summary>Whatever the owner's backend type offers: Ollama serves both API families, OpenAI-compatible servers only theirs.</summary>
    public bool Supports(BackendApi api) =>
        string.Equals(_type, BackendClientFactory.OllamaType, StringComparison.OrdinalIgnoreCase) ? Enum.IsDefined(api) : BackendPaths.IsOpenAI(api);

    /// <summary>Ends every call in flight to this node (it left the fleet or stopped answering).</summary>
    public void NodeLost(string reason)
    {
        if (Interlocked.CompareExchange(ref _lostReason, reason, null) is null)
        {
            _lost.Cancel();
        }
    }

    public async Task<Result<BackendResponse, BackendError>> SendAsync(BackendRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var call = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _lost.Token);
        try
        {
            var result = await _transport.SendAsync(HttpMethod.Post, BackendPaths.For(request.Api), request.Body, request.Api, call.Token, headers: Hints(request)).ConfigureAwait(false);
            return result.IsOk ? result : Owner(result.Error);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && _lostReason is { } reason)
        {
            return Lost(reason, afterFirstEvent: false);
        }
    }

    public ChannelReader<StreamEvent> Stream(BackendRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var call = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _lost.Token);
        StreamFraming framing = BackendPaths.IsOpenAI(request.Api) ? StreamFraming.Sse : StreamFraming.Ndjson;
        var inner = _transport.Stream(BackendPaths.For(request.Api), request.Body, request.Api, framing, call.Token, Hints(request));
        return new ForwardedStream(this, inner, call, cancellationToken);
    }

    public Task<Result<TimeSpan, BackendError>> ProbeAsync(CancellationToken cancellationToken) =>
        _transport.ProbeAsync(BackendPaths.OllamaVersion, ForwardTimeouts.Connect, cancellationToken);

    public async Task<Result<ImmutableArray<BackendModel>, BackendError>> ListModelsAsync(CancellationToken cancellationToken)
    {
        var result = await _transport.SendAsync(HttpMethod.Get, BackendPaths.OllamaTags, default, null, cancellationToken).ConfigureAwait(false);
        return result.IsOk ? ModelListParser.ParseOllamaTags(BackendId, result.Value.Body) : result.Error;
    }

    public Task<Result<BackendResponse, BackendError>> PassthroughAsync(HttpMethod method, string path, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentException.ThrowIfNullOrEmpty(path);
        return _transport.SendAsync(method, path, body, null, cancellationToken);
    }

    public void Dispose()
    {
        _transport.Dispose();
        _lost.Dispose();
    }

    /// <summary>The hints the peer routes by: the priority it queues at, and the request id for its logs.</summary>
    private static List<KeyValuePair<string, string>>? Hints(BackendRequest request)
    {
        if (request.Hints is not { } hints)
        {
            return null;
        }

        var headers = new List<KeyValuePair<string, string>>(2)
        {
            new("X-Priority", ((int)hints.Priority).ToString(CultureInfo.InvariantCulture)),
        };
        if (hints.RequestId is { } id)
        {
            headers.Add(new("X-Request-ID", id));
        }

        return headers;
    }

    /// <summary>A full queue on the peer means "try elsewhere", as a local backend's full queue does.</summary>
    private BackendError Owner(BackendError error) =>
        error is { Kind: BackendErrorKind.HttpStatus, StatusCode: 429 }
            ? error with { StatusCode = 503, Message = $"node {_node} refused: {error.BodyMessage() ?? "its queue is full"}" }
            : error;

    private BackendError Lost(string reason, bool afterFirstEvent) => afterFirstEvent
        ? new BackendError(BackendErrorKind.StreamBroken, $"node {_node} {reason} in the middle of the answer from {BackendId}")
        : new BackendError(BackendErrorKind.ConnectFailed, $"node {_node} {reason} before {BackendId} answered");

    /// <summary>
    /// The transport's reader, with a call that ended because the node was lost turned into the
    /// failure that says so, and a peer's 429 into a failure worth trying elsewhere.
    /// </summary>
    private sealed class ForwardedStream : ChannelReader<StreamEvent>
    {
        private readonly ForwardingClient _client;
        private readonly ChannelReader<StreamEvent> _inner;
        private readonly CancellationToken _caller;
        private StreamEvent? _pending;
        private bool _anyEvent;
        private bool _final;

        public ForwardedStream(ForwardingClient client, ChannelReader<StreamEvent> inner, CancellationTokenSource call, CancellationToken caller)
        {
            _client = client;
            _inner = inner;
            _caller = caller;
            // The transport is done with the call's token once its channel has completed, however it ended
            // (the last event, a failure, or the caller's cancellation): only then may the link go.
            inner.Completion.ContinueWith(static (_, state) => ((CancellationTokenSource)state!).Dispose(), call,
                CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        public override Task Completion => _inner.Completion;

        public override bool TryRead([MaybeNullWhen(false)] out StreamEvent item)
        {
            if (_pending is { } pending)
            {
                _pending = null;
                _final = true;
                item = pending;
                return true;
            }

            if (!_inner.TryRead(out item))
            {
                return false;
            }

            _anyEvent = true;
            if (item is StreamFailed failed)
            {
                item = new StreamFailed(_client.Owner(failed.Error));
                _final = true;
            }
            else if (item is StreamCompleted)
            {
                _final = true;
            }

            return true;
        }

        public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default)
        {
            if (_pending is not null)
            {
                return new ValueTask<bool>(true);
            }

            // A ValueTask may be consumed once: a completed one is read here and never handed on.
            var wait = _inner.WaitToReadAsync(cancellationToken);
            if (wait.IsCompletedSuccessfully)
            {
                return wait.Result ? new ValueTask<bool>(true) : WaitSlowAsync(new ValueTask<bool>(false));
            }

            return WaitSlowAsync(wait);
        }

        private async ValueTask<bool> WaitSlowAsync(ValueTask<bool> wait)
        {
            try
            {
                if (await wait.ConfigureAwait(false))
                {
                    return true;
                }
            }
            catch (OperationCanceledException) when (!_caller.IsCancellationRequested && _client._lostReason is not null)
            {
            }

            if (!_final && !_caller.IsCancellationRequested && _client._lostReason is { } reason)
            {
                _pending = new StreamFailed(_client.Lost(reason, _anyEvent));
                return true;
            }

            return false;
        }
    }
}
