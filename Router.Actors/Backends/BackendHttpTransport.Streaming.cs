using System.Buffers;
using System.IO.Pipelines;
using System.Threading.Channels;

namespace Router.Actors.Backends;

internal sealed partial class BackendHttpTransport
{
    private static readonly BoundedChannelOptions StreamChannelOptions = new(StreamCapacity)
    {
        SingleReader = true,
        SingleWriter = true,
        FullMode = BoundedChannelFullMode.Wait,
        // The surface waiting for the next token continues on the reader loop's thread when it
        // writes one: no thread hop per token. The surface only writes and flushes (both async),
        // so the reader loop is never blocked for long, and backpressure works as before.
        AllowSynchronousContinuations = true,
    };

    private static readonly StreamPipeReaderOptions PipeOptions = new(bufferSize: ReadChunkBytes, minimumReadSize: 1024, leaveOpen: true);

    /// <summary>
    /// Starts a streaming call. A reader loop parses frames as they arrive and writes one event per
    /// frame to a bounded channel; when the channel is full the loop stops reading the socket.
    /// </summary>
    public ChannelReader<StreamEvent> Stream(string path, ReadOnlyMemory<byte> body, BackendApi api, StreamFraming framing, CancellationToken cancellationToken,
        IReadOnlyList<KeyValuePair<string, string>>? headers = null)
    {
        Channel<StreamEvent> channel = Channel.CreateBounded<StreamEvent>(StreamChannelOptions);
        _ = PumpAsync(path, body, api, framing, channel.Writer, cancellationToken, headers);
        return channel.Reader;
    }

    private async Task PumpAsync(string path, ReadOnlyMemory<byte> body, BackendApi api, StreamFraming framing, ChannelWriter<StreamEvent> writer, CancellationToken cancellationToken,
        IReadOnlyList<KeyValuePair<string, string>>? headers)
    {
        // Yield at once so the caller gets its channel before any I/O starts.
        await Task.Yield();

        using var timeout = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        HttpResponseMessage? response = null;
        PipeReader? reader = null;
        try
        {
            using HttpRequestMessage request = CreateRequest(HttpMethod.Post, path, body, headers);
            timeout.CancelAfter(_timeouts.FirstByte);
            try
            {
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (MapFailure(e, afterHeaders: false, cancellationToken, timeout) is { } error)
            {
                await FinishAsync(writer, new StreamFailed(error), cancellationToken).ConfigureAwait(false);
                return;
            }

            int status = (int)response.StatusCode;
            Stream stream = await response.Content.ReadAsStreamAsync(linked.Token).ConfigureAwait(false);
            if (status >= 400)
            {
                StreamEvent failed;
                try
                {
                    (byte[] content, _) = await ReadBodyAsync(stream, response.Content.Headers.ContentLength, MaxErrorBodyBytes, timeout, linked.Token).ConfigureAwait(false);
                    failed = new StreamFailed(HttpStatusError(status, response.ReasonPhrase, content));
                }
                catch (Exception e) when (MapFailure(e, afterHeaders: true, cancellationToken, timeout) is not null)
                {
                    failed = new StreamFailed(HttpStatusError(status, response.ReasonPhrase, default));
                }

                await FinishAsync(writer, failed, cancellationToken).ConfigureAwait(false);
                return;
            }

            // The SSE parser reads the stream itself; the pipe then only drains what follows [DONE].
            reader = PipeReader.Create(stream, PipeOptions);
            StreamEvent final = framing == StreamFraming.Sse
                ? await ReadEventsAsync(stream, api, writer, timeout, linked.Token, cancellationToken).ConfigureAwait(false)
                : await ReadFramesAsync(reader, api, writer, timeout, linked.Token, cancellationToken).ConfigureAwait(false);
            // The final event goes out at once (the surfaces answer on it and free the slot); the
            // channel itself ends once the connection is back in the pool, so a caller that reads
            // to the end and calls again reuses the connection instead of opening another.
            AssertFinal(final);
            await writer.WriteAsync(final, cancellationToken).ConfigureAwait(false);
            if (final is StreamCompleted)
            {
                await DrainAsync(reader, timeout, linked.Token).ConfigureAwait(false);
            }

            writer.TryComplete();
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            // The caller gave up: no error event, the channel is cancelled. Disposing the response
            // below before its end closes the connection (the handler is told not to drain it, see
            // ResponseDrainTimeout), which makes Ollama stop generating. The cancellation may be
            // seen here without ever reaching a pending socket read, so closing cannot be left to it.
            writer.TryComplete(new OperationCanceledException(cancellationToken));
        }
        catch (Exception e)
        {
            // Not an expected failure (a bug): the reader sees the exception rather than a hang.
            writer.TryComplete(e);
        }
        finally
        {
            if (reader is not null)
            {
                await reader.CompleteAsync().ConfigureAwait(false);
            }

            response?.Dispose();
        }
    }

    /// <summary>
    /// Reads what follows the final frame (the chunked-encoding terminator, a trailing newline) so the
    /// connection goes back to the pool instead of being closed. Bounded in bytes and by the idle
    /// timeout; a failure here only costs the connection.
    /// </summary>
    private async Task DrainAsync(PipeReader reader, CancellationTokenSource timeout, CancellationToken token)
    {
        const int MaxDrainBytes = 64 * 1024;
        long drained = 0;
        try
        {
            timeout.CancelAfter(_timeouts.Idle);
            while (drained <= MaxDrainBytes)
            {
                ReadResult result = await reader.ReadAsync(token).ConfigureAwait(false);
                drained += result.Buffer.Length;
                // Nothing after the final frame matters: consume it all.
                reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException)
        {
            // The answer is complete; the connection is simply not reused.
        }
    }

    private static async ValueTask FinishAsync(ChannelWriter<StreamEvent> writer, StreamEvent final, CancellationToken cancellationToken)
    {
        AssertFinal(final);
        await writer.WriteAsync(final, cancellationToken).ConfigureAwait(false);
        writer.TryComplete();
    }

    /// <summary>Reads NDJSON lines until the final one; returns the last event to send.</summary>
    private async Task<StreamEvent> ReadFramesAsync(
        PipeReader reader, BackendApi api, ChannelWriter<StreamEvent> writer,
        CancellationTokenSource timeout, CancellationToken readToken, CancellationToken callerToken)
    {
        var state = new StreamState(api, sse: false);
        // The chunks parsed from one read, delivered together so the last of them can say that the
        // burst ends there.
        var burst = new List<StreamChunk>();
        while (true)
        {
            ReadResult result;
            try
            {
                result = await reader.ReadAsync(readToken).ConfigureAwait(false);
            }
            catch (Exception e) when (MapFailure(e, afterHeaders: true, callerToken, timeout) is { } error)
            {
                return new StreamFailed(error);
            }

            // Waiting for a slow consumer is not backend silence: stop the clock while delivering.
            timeout.CancelAfter(Timeout.InfiniteTimeSpan);

            ReadOnlySequence<byte> buffer = result.Buffer;
            StreamEvent? final = null;
            while (TryNextEvent(ref buffer, state, out StreamChunk? next, out final))
            {
                if (next is not null)
                {
                    burst.Add(next);
                }

                final ??= state.PendingFinal;
                if (final is not null)
                {
                    break;
                }
            }

            for (var i = 0; i < burst.Count; i++)
            {
                // Not yet seen by anyone: set before it is handed on.
                burst[i].MoreFollows = i < burst.Count - 1;
                await writer.WriteAsync(burst[i], callerToken).ConfigureAwait(false);
            }

            burst.Clear();

            if (final is null && result.IsCompleted)
            {
                final = await EndOfStreamAsync(buffer, state, writer, callerToken).ConfigureAwait(false);
                buffer = buffer.Slice(buffer.End);
            }

            // Consumed: the lines parsed. Examined:
            // everything, so the next ReadAsync waits for new bytes instead of returning the same tail.
            reader.AdvanceTo(buffer.Start, buffer.End);

            if (final is not null)
            {
                return final;
            }

            timeout.CancelAfter(_timeouts.Idle);
        }
    }

    /// <summary>
    /// Takes the next line from <paramref name="buffer"/>. Returns false when more bytes are needed.
    /// <paramref name="next"/> is the chunk to deliver (null when the line carries none);
    /// <paramref name="final"/> is set when the stream ends here (success or failure).
    /// </summary>
    private bool TryNextEvent(ref ReadOnlySequence<byte> buffer, StreamState state, out StreamChunk? next, out StreamEvent? final)
    {
        next = null;
        final = null;
        if (!NdjsonFraming.TryReadLine(ref buffer, out ReadOnlySequence<byte> line, out bool oversized))
        {
            final = oversized ? Oversized() : null;
            return oversized;
        }

        // The consumer may keep Raw as long as it likes: each chunk owns its bytes.
        next = Interpret(line.ToArray(), state, out final);
        return true;
    }

    private StreamFailed Oversized() => new(new BackendError(BackendErrorKind.Protocol,
        $"Backend '{BackendId}' sent a frame longer than {NdjsonFraming.MaxLineBytes} bytes."));

    /// <summary>The backend closed the stream: what is left decides between success and a broken stream.</summary>
    private async ValueTask<StreamEvent> EndOfStreamAsync(ReadOnlySequence<byte> rest, StreamState state, ChannelWriter<StreamEvent> writer, CancellationToken callerToken)
    {
        bool nothingLeft = NdjsonFraming.IsWhitespace(rest);
        // An NDJSON answer may end without a newline (Ollama's answer to "stream": false is one bare
        // object): the bytes left are the last line.
        if (!nothingLeft && rest.Length <= NdjsonFraming.MaxLineBytes)
        {
            StreamChunk? next = Interpret(NdjsonFraming.TrimCarriageReturn(rest).ToArray(), state, out StreamEvent? final);
            if (next is not null)
            {
                await writer.WriteAsync(next, callerToken).ConfigureAwait(false);
            }

            if ((final ?? state.PendingFinal) is { } end)
            {
                return end;
            }

            nothingLeft = true;
        }

        return state.EndOfStream(nothingLeft);
    }

    /// <summary>Turns one frame's JSON into the chunk to deliver, or into the stream's failure.</summary>
    private StreamChunk? Interpret(byte[] raw, StreamState state, out StreamEvent? final)
    {
        final = null;
        if (!ChunkParser.TryParse(state.Api, raw, out ChunkInfo info))
        {
            final = new StreamFailed(new BackendError(BackendErrorKind.Protocol,
                $"Backend '{BackendId}' streamed a chunk that is not a JSON object.", Body: raw));
            return null;
        }

        if (info.Error is { } message)
        {
            final = new StreamFailed(new BackendError(BackendErrorKind.StreamBroken,
                $"Backend '{BackendId}' failed mid-stream: {message}", Body: raw));
            return null;
        }

        state.Observe(info);
        var chunk = new StreamChunk(raw, info.Text);
        if (info.Done)
        {
            // Ollama's final object is a chunk too (surfaces forward its stats), then the stream ends.
            state.PendingFinal = new StreamCompleted(state.Usage());
            chunk.Completes = state.PendingFinal;
        }

        return chunk;
    }

    /// <summary>Per-stream parsing state: what the chunks said so far.</summary>
    private sealed class StreamState(BackendApi api, bool sse)
    {
        public readonly BackendApi Api = api;
        public StreamCompleted? PendingFinal;
        private int _textChunks;
        private bool _finished;
        private ChunkInfo _usage;

        public void Observe(in ChunkInfo info)
        {
            if (info.Text.Length > 0)
            {
                _textChunks++;
            }

            _finished |= info.Finished;
            if (info.PromptTokens is not null || info.CompletionTokens is not null || info.EvalDurationNs is not null)
            {
                _usage = info;
            }
        }

        // Servers that report no usage (OpenAI without stream_options.include_usage) still get a
        // completion count: one token per text chunk, which is how both families stream.
        public BackendUsage Usage() => ToUsage(_usage, _textChunks);

        public StreamEvent EndOfStream(bool nothingLeft) => _finished && nothingLeft && sse
            ? new StreamCompleted(Usage()) // an OpenAI server that finished but omitted [DONE]
            : new StreamFailed(new BackendError(BackendErrorKind.StreamBroken, "The backend closed the stream before its final event."));
    }
}
