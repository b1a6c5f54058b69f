using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Google.Protobuf;
using Microsoft.AspNetCore.Http;

namespace Router.Gateway.Grpc;

/// <summary>
/// One call on the server: reads request messages from the HTTP/2 request body and writes
/// response messages to the response body. Not thread-safe: one reader and one writer at a time,
/// as gRPC's stream semantics already require.
/// </summary>
internal sealed class GrpcServerCall
{
    private readonly HttpContext _http;
    private readonly GrpcServerOptions _options;
    private readonly bool _requestCompressed;
    private readonly bool _compressResponses;
    private int _writing;

    public GrpcServerCall(HttpContext http, GrpcServerOptions options, GrpcCallContext context, bool requestCompressed, bool compressResponses)
    {
        _http = http;
        _options = options;
        Context = context;
        _requestCompressed = requestCompressed;
        _compressResponses = compressResponses;
    }

    public GrpcCallContext Context { get; }

    /// <summary>True once a message has been written: the status then goes in trailers, not Trailers-Only.</summary>
    public bool ResponseStarted { get; private set; }

    /// <summary>Reads the one message of a unary or server-streaming request and checks nothing follows it.</summary>
    public async ValueTask<TRequest> ReadSingleMessageAsync<TRequest>(MessageParser<TRequest> parser)
        where TRequest : IMessage<TRequest>
    {
        var token = Context.CancellationToken;
        var message = await ReadNextMessageAsync(parser, token).ConfigureAwait(false)
            ?? throw new GrpcStatusException(GrpcStatusCode.Internal, "The request ended without a message.");
        if (await ReadNextMessageAsync(parser, token).ConfigureAwait(false) is not null)
        {
            throw new GrpcStatusException(GrpcStatusCode.Internal, "More than one message in a request that takes one.");
        }

        return message;
    }

    public async IAsyncEnumerable<TRequest> ReadAllMessagesAsync<TRequest>(MessageParser<TRequest> parser, [EnumeratorCancellation] CancellationToken cancellationToken)
        where TRequest : IMessage<TRequest>
    {
        while (await ReadNextMessageAsync(parser, cancellationToken).ConfigureAwait(false) is { } message)
        {
            yield return message;
        }
    }

    /// <summary>The next message of the request stream, or default at its clean end.</summary>
    private async ValueTask<TRequest?> ReadNextMessageAsync<TRequest>(MessageParser<TRequest> parser, CancellationToken cancellationToken)
        where TRequest : IMessage<TRequest>
    {
        var reader = _http.Request.BodyReader;
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var consumed = buffer.Start;
            var examined = buffer.End;
            try
            {
                if (GrpcMessageFraming.TryReadMessage(ref buffer, _options.MaxReceiveMessageSize, out var compressed, out var payload))
                {
                    // The message is consumed and only it is examined, so bytes of the next
                    // message already received come back at once from the next ReadAsync.
                    consumed = buffer.Start;
                    examined = buffer.Start;
                    return Parse(parser, compressed, payload);
                }

                if (result.IsCompleted)
                {
                    if (!buffer.IsEmpty)
                    {
                        throw new GrpcStatusException(GrpcStatusCode.Internal, "The request ended inside a message.");
                    }

                    return default;
                }

                // Incomplete: nothing consumed, all examined, so the next ReadAsync waits for more bytes.
            }
            finally
            {
                reader.AdvanceTo(consumed, examined);
            }
        }
    }

    private TRequest Parse<TRequest>(MessageParser<TRequest> parser, bool compressed, in ReadOnlySequence<byte> payload)
        where TRequest : IMessage<TRequest>
    {
        try
        {
            if (!compressed)
            {
                return parser.ParseFrom(payload);
            }

            // "If the Compressed-Flag is set and grpc-encoding is identity or absent, the
            // receiver MUST fail the call with INTERNAL."
            if (!_requestCompressed)
            {
                throw new GrpcStatusException(GrpcStatusCode.Internal, "A message is flagged compressed but the request has no grpc-encoding.");
            }

            using var inflated = GrpcCompression.Decompress(payload, _options.MaxReceiveMessageSize);
            return parser.ParseFrom(inflated.WrittenSpan);
        }
        catch (InvalidProtocolBufferException)
        {
            throw new GrpcStatusException(GrpcStatusCode.Internal, "The request message is not valid protobuf.");
        }
    }

    /// <summary>Writes one message into the response body without flushing (unary answers).</summary>
    public void WriteMessage<TResponse>(TResponse message)
        where TResponse : IMessage<TResponse>
    {
        GrpcMessageWriter.Write(_http.Response.BodyWriter, message, _compressResponses, _options.MaxSendMessageSize);
        ResponseStarted = true;
    }

    /// <summary>Writes one message and flushes it, so a stream's client sees each message as it is produced.</summary>
    public ValueTask WriteAndFlushAsync<TResponse>(TResponse message, CancellationToken cancellationToken)
        where TResponse : IMessage<TResponse>
    {
        if (Interlocked.Exchange(ref _writing, 1) != 0)
        {
            throw new InvalidOperationException("A stream write is already in progress; writes must not overlap.");
        }

        try
        {
            WriteMessage(message);
            var flush = _http.Response.BodyWriter.FlushAsync(cancellationToken);
            if (flush.IsCompletedSuccessfully)
            {
                _ = flush.Result;
                Volatile.Write(ref _writing, 0);
                return ValueTask.CompletedTask;
            }

            return AwaitFlush(flush, this);
        }
        catch
        {
            Volatile.Write(ref _writing, 0);
            throw;
        }

        static async ValueTask AwaitFlush(ValueTask<FlushResult> flush, GrpcServerCall call)
        {
            try
            {
                await flush.ConfigureAwait(false);
            }
            finally
            {
                Volatile.Write(ref call._writing, 0);
            }
        }
    }
}
