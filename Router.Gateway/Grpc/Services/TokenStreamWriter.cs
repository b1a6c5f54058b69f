using Grpc.Core;
using Router.Actors.Backends;
using Router.Actors.Inference;
using Router.Gateway.Grpc.Contracts.Compute;
using RouterStats = Router.Actors.Inference.GenerationStats;

namespace Router.Gateway.Grpc.Services;

/// <summary>
/// The one place where a router stream becomes gRPC messages (GenerateStream, ChatStream and the
/// legacy OllamaProxy/GenerateStream): each chunk's text as it arrives, then one last message
/// with done, backend_used and stats. The stream's Akka.Streams source runs into it; each write is
/// awaited before the next event is taken, so a client that stops reading stops the reads from
/// the backend (HTTP/2 flow control → the write waits → the source is not pulled → the router's
/// bounded channel fills → the backend socket is not read).
/// </summary>
internal sealed class TokenStreamWriter(IInferenceStream stream, IServerStreamWriter<GenerateStreamResponse> responses) : IStreamEventWriter
{
    private static readonly WriteOptions Buffered = new(WriteFlags.BufferHint);
    private readonly WriteOptions? _flushEach = responses.WriteOptions;

    /// <summary>How the call must end when the stream did not complete: its status.</summary>
    public RpcException? Failure { get; private set; }

    /// <summary>Writes <paramref name="stream"/> to <paramref name="responses"/>; a failed stream ends the call with its status.</summary>
    public static async Task WriteAsync(IInferenceStream stream, IServerStreamWriter<GenerateStreamResponse> responses, Akka.Streams.IMaterializer materializer, CancellationToken cancellationToken)
    {
        var writer = new TokenStreamWriter(stream, responses);
        await stream.WriteToAsync(writer, materializer, cancellationToken).ConfigureAwait(false);
        if (writer.Failure is { } failure)
        {
            throw failure;
        }
    }

    public async ValueTask<bool> WriteAsync(StreamEvent item, CancellationToken cancellationToken)
    {
        switch (item)
        {
            case StreamChunk { Text.Length: > 0 } chunk:
                // The next chunk is already here: this one goes out with it, in one send, and no
                // token waits for another.
                responses.WriteOptions = chunk.MoreFollows ? Combine(_flushEach, Buffered) : _flushEach;
                await responses.WriteAsync(new GenerateStreamResponse { Token = chunk.Text }, cancellationToken).ConfigureAwait(false);
                break;
            case StreamCompleted:
                responses.WriteOptions = _flushEach;
                await responses.WriteAsync(new GenerateStreamResponse
                {
                    Done = true,
                    BackendUsed = stream.Decision.BackendId,
                    Stats = ComputeGrpcService.ToStats(stream.Stats ?? RouterStats.Empty),
                }, cancellationToken).ConfigureAwait(false);
                break;
            case StreamFailed failed:
                // Its status completes the response, which also sends what was buffered.
                Failure = GrpcErrors.From(failed.Error);
                break;
        }

        return true;
    }

    public ValueTask WriteTruncatedAsync(CancellationToken cancellationToken)
    {
        Failure = GrpcErrors.UnusableAnswer("The backend stream ended without completing.");
        return default;
    }

    private static WriteOptions Combine(WriteOptions? options, WriteOptions extra) =>
        options is null ? extra : new WriteOptions(options.Flags | extra.Flags);
}
