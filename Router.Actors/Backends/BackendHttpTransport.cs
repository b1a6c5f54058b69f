using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Router.Actors.Config;

namespace Router.Actors.Backends;

/// <summary>How a streaming answer is framed on the wire.</summary>
internal enum StreamFraming
{
    /// <summary>Ollama native: one JSON object per line.</summary>
    Ndjson,
    /// <summary>OpenAI-compatible: server-sent events, <c>data: {json}</c>, ending with <c>data: [DONE]</c>.</summary>
    Sse,
}

/// <summary>
/// The HTTP side of one backend: one pooled <see cref="SocketsHttpHandler"/> (keep-alive), the
/// connect, first-byte and idle timeouts, and the mapping of failures to <see cref="BackendError"/>.
/// Shared by the Ollama and OpenAI-compatible clients, which differ only in APIs and paths.
/// </summary>
internal sealed partial class BackendHttpTransport : IDisposable
{
    /// <summary>Events buffered per stream before the reader loop stops reading the socket.</summary>
    public const int StreamCapacity = 16;
    /// <summary>Largest error body kept for the client.</summary>
    public const int MaxErrorBodyBytes = 64 * 1024;
    /// <summary>Largest non-streaming answer (large embedding batches fit).</summary>
    public const int MaxResponseBytes = 64 * 1024 * 1024;

    private const int ReadChunkBytes = 16 * 1024;
    private static readonly MediaTypeHeaderValue JsonContentType = new("application/json");

    private readonly HttpClient _http;
    private readonly BackendTimeouts _timeouts;
    private readonly TimeProvider _time;

    /// <param name="headers">Sent with every request (a fleet peer's target, hop and secret headers).</param>
    public BackendHttpTransport(string backendId, Uri endpoint, BackendTimeouts timeouts, string? apiKey, TimeProvider time,
        IEnumerable<KeyValuePair<string, string>>? headers = null)
    {
        BackendId = backendId;
        _timeouts = timeouts;
        _time = time;
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = timeouts.Connect,
            // Backends are long-lived local servers; recycling now and then still picks up a changed
            // address behind a host name without tearing down connections per request.
            PooledConnectionLifetime = TimeSpan.FromMinutes(10),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(90),
            // A system proxy (HTTP_PROXY) must never sit between the router and a local backend.
            UseProxy = false,
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            // Disposing a response before its end must close the connection: over HTTP/1.1 that is
            // the only way to tell Ollama to stop generating. By default the handler would instead
            // keep reading the abandoned answer for up to 2 s to reuse the connection, and the device
            // would go on generating for a caller that has left while its slot already counts as
            // free. Zero still reuses the connection when the answer's end is already buffered;
            // answers read to the end are drained by the stream reader itself (DrainAsync).
            ResponseDrainTimeout = TimeSpan.Zero,
        };
        _http = new HttpClient(handler, disposeHandler: true)
        {
            BaseAddress = BackendPaths.BaseAddress(endpoint),
            // Timeouts are ours (first byte, idle); HttpClient's single deadline would cut long streams.
            Timeout = Timeout.InfiniteTimeSpan,
        };
        if (!string.IsNullOrEmpty(apiKey))
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        foreach (var (name, value) in headers ?? [])
        {
            _http.DefaultRequestHeaders.TryAddWithoutValidation(name, value);
        }
    }

    public string BackendId { get; }

    public Uri BaseAddress => _http.BaseAddress!;

    /// <summary>
    /// Sends a request and reads the whole answer. Status ≥ 400 becomes <see cref="BackendErrorKind.HttpStatus"/>
    /// with the body kept. Cancellation by the caller throws <see cref="OperationCanceledException"/>.
    /// </summary>
    public async Task<Result<BackendResponse, BackendError>> SendAsync(
        HttpMethod method, string path, ReadOnlyMemory<byte> body, BackendApi? api, CancellationToken cancellationToken,
        TimeSpan? firstByteTimeout = null, IReadOnlyList<KeyValuePair<string, string>>? headers = null)
    {
        using var timeout = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        using HttpRequestMessage request = CreateRequest(method, path, body, headers);

        timeout.CancelAfter(firstByteTimeout ?? _timeouts.FirstByte);
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (MapFailure(e, afterHeaders: false, cancellationToken, timeout) is { } error)
        {
            return error;
        }

        using (response)
        {
            int status = (int)response.StatusCode;
            int limit = status >= 400 ? MaxErrorBodyBytes : MaxResponseBytes;
            byte[] content;
            try
            {
                Stream stream = await response.Content.ReadAsStreamAsync(linked.Token).ConfigureAwait(false);
                await using (stream.ConfigureAwait(false))
                {
                    (content, bool truncated) = await ReadBodyAsync(stream, response.Content.Headers.ContentLength, limit, timeout, linked.Token).ConfigureAwait(false);
                    if (truncated && status < 400)
                    {
                        return new BackendError(BackendErrorKind.Protocol, $"The answer of backend '{BackendId}' exceeds {limit} bytes.");
                    }
                }
            }
            catch (Exception e) when (MapFailure(e, afterHeaders: true, cancellationToken, timeout) is { } error)
            {
                return error;
            }

            if (status >= 400)
            {
                return HttpStatusError(status, response.ReasonPhrase, content);
            }

            if (api is BackendApi.OllamaGenerate or BackendApi.OllamaChat
                && response.Content.Headers.ContentType?.MediaType == NdjsonAggregator.ContentType)
            {
                content = NdjsonAggregator.Aggregate(api.Value, content) ?? content;
            }

            BackendUsage usage = BackendUsage.None;
            if (api is { } knownApi && ChunkParser.TryParse(knownApi, content, out ChunkInfo info))
            {
                usage = ToUsage(info, fallbackCompletionTokens: 0);
            }

            return Result<BackendResponse, BackendError>.Ok(new BackendResponse(status, content, usage));
        }
    }

    public async Task<Result<TimeSpan, BackendError>> ProbeAsync(string path, TimeSpan probeTimeout, CancellationToken cancellationToken)
    {
        long started = _time.GetTimestamp();
        TimeSpan limit = probeTimeout < _timeouts.FirstByte ? probeTimeout : _timeouts.FirstByte;
        Result<BackendResponse, BackendError> result = await SendAsync(HttpMethod.Get, path, default, null, cancellationToken, limit).ConfigureAwait(false);
        return result.IsOk
            ? Result<TimeSpan, BackendError>.Ok(_time.GetElapsedTime(started))
            : result.Error;
    }

    private HttpRequestMessage CreateRequest(HttpMethod method, string path, ReadOnlyMemory<byte> body, IReadOnlyList<KeyValuePair<string, string>>? headers = null)
    {
        var request = new HttpRequestMessage(method, BackendPaths.Relative(path))
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        if (headers is not null)
        {
            foreach (var (name, value) in headers)
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
        }

        if (!body.IsEmpty || method == HttpMethod.Post)
        {
            var content = new ReadOnlyMemoryContent(body);
            content.Headers.ContentType = JsonContentType;
            request.Content = content;
        }

        return request;
    }

    // Reads a body up to `limit` bytes. The first read is still under the first-byte deadline; each
    // read after it re-arms the idle deadline. A declared length is read straight into an array of
    // that size; otherwise into pooled buffers, copied out once at the end.
    private async Task<(byte[] Content, bool Truncated)> ReadBodyAsync(Stream stream, long? declaredLength, int limit, CancellationTokenSource timeout, CancellationToken token)
    {
        if (declaredLength is { } declared && declared <= limit)
        {
            var exact = new byte[declared];
            var filled = 0;
            while (filled < exact.Length)
            {
                int read = await stream.ReadAsync(exact.AsMemory(filled), token).ConfigureAwait(false);
                if (read == 0)
                {
                    // Fewer bytes than declared: the connection broke off.
                    throw new IOException($"the body ended after {filled} of {declared} bytes");
                }

                filled += read;
                timeout.CancelAfter(_timeouts.Idle);
            }

            return (exact, false);
        }

        var buffer = ArrayPool<byte>.Shared.Rent(ReadChunkBytes);
        var written = 0;
        try
        {
            while (true)
            {
                if (written == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, written).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                int read = await stream.ReadAsync(buffer.AsMemory(written), token).ConfigureAwait(false);
                if (read == 0)
                {
                    return (buffer.AsSpan(0, written).ToArray(), false);
                }

                timeout.CancelAfter(_timeouts.Idle);
                if (written + read > limit)
                {
                    return (buffer.AsSpan(0, limit).ToArray(), true);
                }

                written += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private BackendError HttpStatusError(int status, string? reason, ReadOnlyMemory<byte> body) =>
        new(BackendErrorKind.HttpStatus, $"Backend '{BackendId}' answered {status} {reason}.", status, body);

    internal static BackendUsage ToUsage(in ChunkInfo info, int fallbackCompletionTokens)
    {
        if (info.PromptTokens is null && info.CompletionTokens is null && info.EvalDurationNs is null && fallbackCompletionTokens == 0)
        {
            return BackendUsage.None;
        }

        return new BackendUsage(info.PromptTokens ?? 0, info.CompletionTokens ?? fallbackCompletionTokens)
        {
            // Ollama reports nanoseconds; a tick is 100 ns.
            EvalDuration = info.EvalDurationNs is { } ns ? TimeSpan.FromTicks(ns / 100) : null,
        };
    }

    /// <summary>
    /// Maps an exception from the HTTP call to an expected failure, or null when it is not one (the
    /// caller cancelled, or a bug) so the exception propagates.
    /// </summary>
    private BackendError? MapFailure(Exception exception, bool afterHeaders, CancellationToken callerToken, CancellationTokenSource timeout)
    {
        if (callerToken.IsCancellationRequested)
        {
            return null;
        }

        switch (exception)
        {
            case OperationCanceledException when timeout.IsCancellationRequested:
                return new BackendError(BackendErrorKind.Timeout, afterHeaders
                    ? $"Backend '{BackendId}' was silent for longer than the timeout."
                    : $"Backend '{BackendId}' sent no answer within {_timeouts.FirstByte.TotalSeconds:0.###} s.");
            case OperationCanceledException:
                // SocketsHttpHandler.ConnectTimeout surfaces as a cancellation we did not ask for.
                return new BackendError(BackendErrorKind.ConnectFailed, $"Connecting to backend '{BackendId}' timed out.");
            case HttpRequestException http when !afterHeaders:
                return http.HttpRequestError switch
                {
                    HttpRequestError.InvalidResponse or HttpRequestError.VersionNegotiationError =>
                        new BackendError(BackendErrorKind.Protocol, $"Backend '{BackendId}' sent an invalid response: {http.Message}"),
                    _ => new BackendError(BackendErrorKind.ConnectFailed, $"Backend '{BackendId}' could not be reached: {Describe(http)}"),
                };
            case HttpRequestException or IOException when afterHeaders:
                return new BackendError(BackendErrorKind.StreamBroken, $"The answer of backend '{BackendId}' broke off: {exception.Message}");
            case IOException:
                return new BackendError(BackendErrorKind.ConnectFailed, $"Backend '{BackendId}' could not be reached: {exception.Message}");
            default:
                return null;
        }
    }

    private static string Describe(HttpRequestException exception) =>
        exception.InnerException is SocketException socket ? $"{socket.SocketErrorCode} ({exception.Message})" : exception.Message;

    public void Dispose() => _http.Dispose();

    [Conditional("DEBUG")]
    private static void AssertFinal(StreamEvent final) =>
        Debug.Assert(final is StreamCompleted or StreamFailed, "A stream ends with StreamCompleted or StreamFailed.");
}
