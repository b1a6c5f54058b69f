using Grpc.Core;
using Router.Actors.Backends;
using Router.Actors.Inference;
using Router.Gateway.Grpc.Contracts.Compute;
using RouterStats = Router.Actors.Inference.GenerationStats;

namespace Router.Gateway.Grpc.Services;

/// <summary>
/// The one place where a router stream becomes gRPC messages (GenerateStream, ChatStream and the
/// legacy OllamaProxy/GenerateStream): each chunk's text as it arrives, then one last message
/// with done, backend_used and stats.
/// </summary>
internal static class TokenStreamWriter
{
    private static readonly WriteOptions Buffered = new(WriteFlags.BufferHint);

    /// <summary>
    /// Each write is awaited before the next event is read, so a client that stops reading stops
    /// the reads from the backend (HTTP/2 flow control → the write waits → the router's bounded
    /// channel fills → the backend socket is not read). A chunk is written without a flush when the next message is certain to follow at once
    /// (its event is already here): a burst leaves in one send, and no token waits for another.
    /// A failed stream ends the call with its status; the caller disposes the stream.
    /// </summary>
    public static async Task WriteAsync(IInferenceStream stream, IServerStreamWriter<GenerateStreamResponse> responses, CancellationToken cancellationToken)
    {
        var events = stream.Events;
        var flushEach = responses.WriteOptions;
        while (await events.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (events.TryRead(out var item))
            {
                switch (item)
                {
                    case StreamChunk { Text.Length: > 0 } chunk:
                        responses.WriteOptions = NextIsWrittenAtOnce(events) ? Combine(flushEach, Buffered) : flushEach;
                        await responses.WriteAsync(new GenerateStreamResponse { Token = chunk.Text }, cancellationToken).ConfigureAwait(false);
                        break;
                    case StreamCompleted:
                        responses.WriteOptions = flushEach;
                        await responses.WriteAsync(new GenerateStreamResponse
                        {
                            Done = true,
                            BackendUsed = stream.Decision.BackendId,
                            Stats = ComputeGrpcService.ToStats(stream.Stats ?? RouterStats.Empty),
                        }, cancellationToken).ConfigureAwait(false);
                        return;
                    case StreamFailed failed:
                        throw GrpcErrors.From(failed.Error);
                }
            }
        }

        throw GrpcErrors.UnusableAnswer("The backend stream ended without completing.");
    }

    /// <summary>
    /// True when the next event is already queued and will itself be written (a token or the last
    /// message) or end the call (a failure: its status completes the response, which sends what
    /// was buffered). An empty chunk writes nothing, so it does not count.
    /// </summary>
    private static bool NextIsWrittenAtOnce(System.Threading.Channels.ChannelReader<StreamEvent> events) =>
        events.TryPeek(out var next) && next is StreamChunk { Text.Length: > 0 } or StreamCompleted or StreamFailed;

    private static WriteOptions Combine(WriteOptions? options, WriteOptions extra) =>
        options is null ? extra : new WriteOptions(options.Flags | extra.Flags);
}
