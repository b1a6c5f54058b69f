using System.Threading.Channels;

namespace Router.Actors.Backends;

internal sealed partial class BackendHttpTransport
{
    /// <summary>
    /// Reads an OpenAI-compatible server's event stream until <c>data: [DONE]</c>; returns the last
    /// event to send. The parser reads the socket only when the next event is asked for, so a full
    /// channel stops the reads, as for NDJSON.
    /// </summary>
    /// <remarks>
    /// After handing an event on, the loop asks for the next one before writing it to the channel. An
    /// event that is already buffered (it came in the same read) completes that request at once, which
    /// is what <see cref="StreamChunk.MoreFollows"/> tells the surface; otherwise a read is pending on
    /// the socket while the chunk waits for room in the channel, and at most one event is read ahead.
    /// The idle timeout runs from the last event handed on to the next one: a keep-alive comment is
    /// consumed by the parser and does not count as an answer.
    /// </remarks>
    private async Task<StreamEvent> ReadEventsAsync(
        Stream body, BackendApi api, ChannelWriter<StreamEvent> writer,
        CancellationTokenSource timeout, CancellationToken readToken, CancellationToken callerToken)
    {
        var state = new StreamState(api, sse: true);
        var limited = new SseEventLimitStream(body, SseFraming.MaxEventBytes);
        IAsyncEnumerator<System.Net.ServerSentEvents.SseItem<byte[]>> events =
            SseFraming.CreateParser(limited).EnumerateAsync(readToken).GetAsyncEnumerator(readToken);
        ValueTask<bool> next = events.MoveNextAsync();
        try
        {
            while (true)
            {
                bool more;
                try
                {
                    more = await next.ConfigureAwait(false);
                }
                catch (InvalidDataException)
                {
                    return Oversized();
                }
                catch (Exception e) when (MapFailure(e, afterHeaders: true, callerToken, timeout) is { } error)
                {
                    return new StreamFailed(error);
                }

                if (!more)
                {
                    return state.EndOfStream(nothingLeft: !limited.EndsInsideLine);
                }

                // Waiting for a slow consumer is not backend silence: stop the clock while delivering.
                timeout.CancelAfter(Timeout.InfiniteTimeSpan);
                byte[] data = events.Current.Data;
                if (SseFraming.IsDone(data))
                {
                    return new StreamCompleted(state.Usage());
                }

                StreamChunk? chunk = Interpret(data, state, out StreamEvent? final);
                if ((final ?? state.PendingFinal) is { } end)
                {
                    return end;
                }

                next = events.MoveNextAsync();
                // Not yet seen by anyone: set before it is handed on.
                chunk!.MoreFollows = next.IsCompleted;
                await writer.WriteAsync(chunk, callerToken).ConfigureAwait(false);
                timeout.CancelAfter(_timeouts.Idle);
            }
        }
        finally
        {
            // Leaving with a read still pending (the caller left while the chunk waited for room):
            // cancel it, so the enumerator is idle when it is disposed.
            if (!next.IsCompleted)
            {
                await timeout.CancelAsync().ConfigureAwait(false);
                try
                {
                    await next.ConfigureAwait(false);
                }
                catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException or InvalidDataException)
                {
                    // The stream is being abandoned; how its last read ended does not matter.
                }
            }

            await events.DisposeAsync().ConfigureAwait(false);
        }
    }
}
