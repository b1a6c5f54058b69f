using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Akka.Streams;
using Microsoft.Extensions.Logging;
using Router.Actors.Backends;
using Router.Actors.Inference;
using Router.Gateway.Hosting;

namespace Router.Gateway.Http.WebSockets;

/// <summary>
/// One connection of <c>/v1/stream/ws</c>. The receive loop reads frames and starts or cancels
/// requests; each request runs as its own task and writes its frames through one lock, because a
/// WebSocket allows one send at a time. A request's failure is an error frame; a frame outside the
/// protocol closes the socket with 1007; the socket closing, either way, cancels every request.
/// When the daemon stops, new requests get a 503 error frame; once the requests in flight have
/// ended (or the drain runs out and ends them) the socket is closed with 1001.
/// </summary>
internal sealed partial class StreamSocketSession
{
    /// <summary>Requests one socket may have in flight; more get a 429 error frame.</summary>
    internal const int MaxInFlight = 64;
    /// <summary>A close reason is at most 123 bytes of UTF-8 (RFC 6455 §5.5: control payload ≤ 125, 2 for the code).</summary>
    private const int MaxCloseReasonBytes = 123;
    private static readonly TimeSpan CloseHandshakeTimeout = TimeSpan.FromSeconds(5);

    private readonly WebSocket _socket;
    private readonly IInferenceRouter _router;
    private readonly IMaterializer _materializer;
    private readonly long _maxFrameBytes;
    private readonly ILogger _logger;
    private readonly string _connectionId;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _inFlight = new(StringComparer.Ordinal);
    /// <summary>
    /// Every request started, with its cancellation. Only the receive loop touches this list and
    /// only it cancels or disposes a request's source, so a cancel never meets a disposed source.
    /// </summary>
    private readonly List<(Task Task, CancellationTokenSource Cancellation)> _requests = new();
    /// <summary>Cancelled when the session ends: every request is linked to it.</summary>
    private readonly CancellationTokenSource _ending = new();
    private readonly CancellationToken _aborted;
    private readonly ShutdownDrain? _drain;
    /// <summary>Completes when the daemon is stopping and no request is left in flight.</summary>
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _shutdownClosing;

    public StreamSocketSession(WebSocket socket, IInferenceRouter router, IMaterializer materializer, long maxFrameBytes, ILogger logger, string connectionId, CancellationToken aborted, ShutdownDrain? drain = null)
    {
        _drain = drain;
        _socket = socket;
        _router = router;
        _materializer = materializer;
        _maxFrameBytes = maxFrameBytes;
        _logger = logger;
        _connectionId = connectionId;
        _aborted = aborted;
    }

    public async Task RunAsync()
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        (WebSocketCloseStatus Status, string Reason)? close = null;
        using var onStopping = _drain?.Stopping.Register(() => _ = DrainAsync());
        try
        {
            while (close is null)
            {
                buffer.ResetWrittenCount();
                var received = await ReceiveMessageAsync(buffer).ConfigureAwait(false);
                switch (received)
                {
                    case WebSocketMessageType.Close:
                        close = (WebSocketCloseStatus.NormalClosure, "closed by the client");
                        break;
                    case WebSocketMessageType.Binary:
                        close = (WebSocketCloseStatus.InvalidPayloadData, "binary frames are not part of this protocol; send JSON text frames");
                        break;
                    case null:
                        close = (WebSocketCloseStatus.MessageTooBig, $"a frame may be at most {_maxFrameBytes} bytes");
                        break;
                    default:
                        close = await HandleFrameAsync(buffer.WrittenMemory).ConfigureAwait(false);
                        break;
                }
            }
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException)
        {
            Log.WebSocketBroken(_logger, _connectionId, exception);
        }
        finally
        {
            await EndRequestsAsync().ConfigureAwait(false);
        }

        if (close is { } how)
        {
            await CloseAsync(how.Status, how.Reason).ConfigureAwait(false);
        }
    }

    /// <summary>Reads one whole message. Null when it grows past the limit.</summary>
    private async Task<WebSocketMessageType?> ReceiveMessageAsync(ArrayBufferWriter<byte> buffer)
    {
        while (true)
        {
            var result = await _socket.ReceiveAsync(buffer.GetMemory(4096), _aborted).ConfigureAwait(false);
            if (result.MessageType == WebSocketMessageType.Close) return WebSocketMessageType.Close;
            buffer.Advance(result.Count);
            if (buffer.WrittenCount > _maxFrameBytes) return null;
            if (result.EndOfMessage) return result.MessageType;
        }
    }

    /// <returns>How to close the socket, or null to keep reading.</returns>
    private async ValueTask<(WebSocketCloseStatus, string)?> HandleFrameAsync(ReadOnlyMemory<byte> frame)
    {
        var parsed = StreamFrames.Parse(frame);
        switch (parsed.Kind)
        {
            case FrameKind.Malformed:
                return (WebSocketCloseStatus.InvalidPayloadData, parsed.Reason!);
            case FrameKind.Cancel:
                if (_inFlight.TryGetValue(parsed.RequestId!, out var running))
                {
                    await running.CancelAsync().ConfigureAwait(false);
                }
                return null;
            case FrameKind.Invalid:
                await SendErrorAsync(parsed.RequestId!, parsed.Error!).ConfigureAwait(false);
                return null;
        }

        var request = parsed.Request!;
        if (_drain?.IsStopping == true)
        {
            await SendErrorAsync(request.RequestId, HttpErrorMap.ShuttingDown).ConfigureAwait(false);
            return null;
        }

        if (_inFlight.Count >= MaxInFlight)
        {
            await SendErrorAsync(request.RequestId, new HttpError(429, HttpErrorMap.RateLimit, "too_many_requests",
                $"this socket already has {MaxInFlight} requests in flight; wait for one to finish")).ConfigureAwait(false);
            return null;
        }
        var cancellation = _drain is null
            ? CancellationTokenSource.CreateLinkedTokenSource(_ending.Token)
            : CancellationTokenSource.CreateLinkedTokenSource(_ending.Token, _drain.Ending);
        if (!_inFlight.TryAdd(request.RequestId, cancellation))
        {
            cancellation.Dispose();
            await SendErrorAsync(request.RequestId, new HttpError(409, HttpErrorMap.InvalidRequest, "duplicate_request_id",
                $"request {request.RequestId} is already in flight on this socket; use a new request_id")).ConfigureAwait(false);
            return null;
        }
        Prune();
        _requests.Add((RunRequestAsync(request, cancellation), cancellation));
        return null;
    }

    private void Prune()
    {
        for (var i = _requests.Count - 1; i >= 0; i--)
        {
            if (!_requests[i].Task.IsCompleted) continue;
            _requests[i].Cancellation.Dispose();
            _requests.RemoveAt(i);
        }
    }

    private async Task EndRequestsAsync()
    {
        await _ending.CancelAsync().ConfigureAwait(false);
        // Each request task ends on its own once cancelled: its stream is disposed, its slot freed.
        // The tasks handle their own failures, so awaiting them only waits.
        foreach (var (task, _) in _requests) await task.ConfigureAwait(false);
        foreach (var (_, cancellation) in _requests) cancellation.Dispose();
        _requests.Clear();
        _ending.Dispose();
    }

    /// <summary>
    /// The daemon is stopping: when the requests in flight have ended, or the drain runs out (which
    /// ends them, each with a 503 error frame), the socket is closed with 1001. The close frame goes
    /// out while the receive loop still reads, so the client's answering close ends the loop.
    /// </summary>
    private async Task DrainAsync()
    {
        var drain = _drain!;
        Log.WebSocketDraining(_logger, _connectionId, _inFlight.Count);
        if (_inFlight.IsEmpty)
        {
            _drained.TrySetResult();
        }

        try
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(drain.Ending, _aborted);
            await _drained.Task.WaitAsync(wait.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (drain.Ending.IsCancellationRequested && !_aborted.IsCancellationRequested)
        {
            // The drain ran out: the requests' own tokens, linked to its end, end them now, each with
            // an error frame; the close follows once they have sent it.
            try
            {
                await _drained.Task.WaitAsync(CloseHandshakeTimeout, _aborted).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is TimeoutException or OperationCanceledException)
            {
                Log.WebSocketBroken(_logger, _connectionId, exception);
            }
        }
        catch (OperationCanceledException)
        {
            return; // The client left on its own.
        }

        await CloseForShutdownAsync().ConfigureAwait(false);
    }

    private async Task CloseForShutdownAsync()
    {
        if (Interlocked.Exchange(ref _shutdownClosing, 1) != 0 || _socket.State != WebSocketState.Open)
        {
            return;
        }

        const string reason = "the router is shutting down; reconnect in a moment";
        Log.WebSocketClosed(_logger, _connectionId, WebSocketCloseStatus.EndpointUnavailable.ToString(), reason);
        await _sendLock.WaitAsync(_aborted).ConfigureAwait(false);
        try
        {
            await _socket.CloseOutputAsync(WebSocketCloseStatus.EndpointUnavailable, reason, _aborted).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException)
        {
            Log.WebSocketBroken(_logger, _connectionId, exception);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task CloseAsync(WebSocketCloseStatus status, string reason)
    {
        if (_socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived)) return;
        Log.WebSocketClosed(_logger, _connectionId, status.ToString(), reason);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_aborted);
        timeout.CancelAfter(CloseHandshakeTimeout);
        var locked = false;
        try
        {
            await _sendLock.WaitAsync(timeout.Token).ConfigureAwait(false);
            locked = true;
            await _socket.CloseAsync(status, Truncate(reason), timeout.Token).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException)
        {
            Log.WebSocketBroken(_logger, _connectionId, exception);
        }
        finally
        {
            if (locked) _sendLock.Release();
        }
    }

    private static string Truncate(string reason)
    {
        if (Encoding.UTF8.GetByteCount(reason) <= MaxCloseReasonBytes) return reason;
        var length = Math.Min(reason.Length, MaxCloseReasonBytes);
        while (Encoding.UTF8.GetByteCount(reason.AsSpan(0, length)) > MaxCloseReasonBytes - 3) length--;
        return string.Concat(reason.AsSpan(0, length), "…");
    }

    /// <summary>
    /// Sends one frame. Sends never take a request's token: cancelling a WebSocket send aborts the
    /// whole socket, and one request's cancel must not end the others.
    /// </summary>
    private async Task SendAsync(ReadOnlyMemory<byte> frame)
    {
        await _sendLock.WaitAsync(_aborted).ConfigureAwait(false);
        try
        {
            if (_socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived)) return;
            await _socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, _aborted).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private Task SendErrorAsync(string requestId, HttpError error)
    {
        Log.WebSocketRequestFailed(_logger, _connectionId, requestId, error.Status, error.Message);
        return SendAsync(ResponseFrames.Error(requestId, error));
    }

    private static double ElapsedMs(long since) => Stopwatch.GetElapsedTime(since).TotalMilliseconds;

    private async Task RunRequestAsync(StreamRequestFrame frame, CancellationTokenSource cancellation)
    {
        // Off the receive loop: the loop must keep reading (cancels, more requests) while this runs.
        await Task.Yield();
        var started = Stopwatch.GetTimestamp();
        var token = cancellation.Token;
        try
        {
            try
            {
                var opened = await _router.StreamAsync(frame.ToInferenceRequest(), token).ConfigureAwait(false);
                if (!opened.IsOk)
                {
                    await SendErrorAsync(frame.RequestId, HttpErrorMap.FromInference(opened.Error)).ConfigureAwait(false);
                    return;
                }
                var stream = opened.Value;
                await using (stream.ConfigureAwait(false))
                {
                    await PumpAsync(frame, stream, started, token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                if (_drain?.Ending.IsCancellationRequested == true && !_ending.IsCancellationRequested)
                {
                    // The daemon's drain ran out: say so, then the socket closes with 1001.
                    await SendErrorAsync(frame.RequestId, HttpErrorMap.ShuttingDown).ConfigureAwait(false);
                }
                else if (!_ending.IsCancellationRequested)
                {
                    // Cancelled by the client's cancel frame: confirm, so it knows the request is over.
                    await SendAsync(ResponseFrames.Cancelled(frame.RequestId)).ConfigureAwait(false);
                }
            }
            catch (Exception exception) when (exception is not (OperationCanceledException or WebSocketException))
            {
                // A bug in the router must not take the other requests on this socket down with it.
                Log.WebSocketRequestCrashed(_logger, _connectionId, frame.RequestId, exception);
                await SendErrorAsync(frame.RequestId, new HttpError(500, HttpErrorMap.ServerError, "internal_error",
                    $"The router failed on request {frame.RequestId}; see its log.")).ConfigureAwait(false);
            }
        }
        catch (Exception exception) when (exception is WebSocketException || (exception is OperationCanceledException && _aborted.IsCancellationRequested))
        {
            // The socket broke under a send: the receive loop sees it too and ends the session.
            Log.WebSocketBroken(_logger, _connectionId, exception);
        }
        finally
        {
            _inFlight.TryRemove(frame.RequestId, out _);
            if (_drain?.IsStopping == true && _inFlight.IsEmpty)
            {
                _drained.TrySetResult();
            }
        }
    }

    private Task PumpAsync(StreamRequestFrame frame, IInferenceStream stream, long started, CancellationToken token) =>
        stream.WriteToAsync(new FrameWriter(this, frame, stream, started), _materializer, token);

    /// <summary>
    /// Turns one request's events into its frames: a token frame per chunk (or, for a request that
    /// asked not to stream, one frame with the whole text), then the done frame or an error frame.
    /// Each send completes before the next event is taken, so a client that stops reading holds back
    /// its stream and no other.
    /// </summary>
    private sealed class FrameWriter(StreamSocketSession session, StreamRequestFrame frame, IInferenceStream stream, long started) : IStreamEventWriter
    {
        private readonly ResponseFrames _frames = new(frame.RequestId);
        private readonly StringBuilder? _collected = frame.Stream ? null : new StringBuilder();
        private double? _firstTokenMs;
        private int _tokens;

        public async ValueTask<bool> WriteAsync(StreamEvent item, CancellationToken cancellationToken)
        {
            switch (item)
            {
                case StreamChunk { Text.Length: > 0 } chunk:
                    _tokens++;
                    if (_collected is not null)
                    {
                        _firstTokenMs ??= ElapsedMs(started);
                        _collected.Append(chunk.Text);
                        break;
                    }

                    double? ttft = null;
                    if (_firstTokenMs is null)
                    {
                        _firstTokenMs = ElapsedMs(started);
                        ttft = _firstTokenMs;
                    }

                    await session.SendAsync(_frames.Token(chunk.Text, ttft)).ConfigureAwait(false);
                    break;
                case StreamCompleted:
                    if (_collected is not null)
                    {
                        await session.SendAsync(_frames.Token(_collected.ToString(), _firstTokenMs ?? ElapsedMs(started))).ConfigureAwait(false);
                    }

                    var total = ElapsedMs(started);
                    var stats = stream.Stats ?? new GenerationStats(_firstTokenMs ?? total, total, _tokens,
                        total > 0 ? _tokens / (total / 1000) : 0, stream.Decision.Estimate.EnergyWh);
                    await session.SendAsync(_frames.Done(stats, stream.Decision)).ConfigureAwait(false);
                    break;
                case StreamFailed failed:
                    await session.SendErrorAsync(frame.RequestId, HttpErrorMap.FromBackend(failed.Error)).ConfigureAwait(false);
                    break;
            }

            return true;
        }

        public ValueTask WriteTruncatedAsync(CancellationToken cancellationToken) =>
            new(session.SendErrorAsync(frame.RequestId, new HttpError(502, HttpErrorMap.ServerError, "stream_truncated", "The backend stream ended without completing.")));
    }
}
