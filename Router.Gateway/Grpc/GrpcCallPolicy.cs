using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Router.Gateway.Grpc;

/// <summary>
/// What every call of the surface shares, around each handler (services, health, reflection):
/// <list type="number">
/// <item>The call's token also fires when the host stops, so long streams (Watch, WatchState,
/// a token stream) end at once with UNAVAILABLE instead of holding up shutdown.</item>
/// <item>Responses are gzip-compressed when the client compressed its request with gzip (and
/// accepts gzip back): a client that did not compress is sent nothing it must inflate, and short
/// token messages are not made longer by a gzip header each.</item>
/// <item>Anything a handler throws that is not a status (<see cref="RpcException"/>) or the call's
/// own cancellation becomes INTERNAL, logged, with no detail for the client.</item>
/// </list>
/// Deadlines are the server's: Grpc.AspNetCore answers DEADLINE_EXCEEDED and fires the token.
/// </summary>
internal sealed partial class GrpcCallPolicy(IHostApplicationLifetime lifetime, ILogger<GrpcCallPolicy> logger) : Interceptor
{
    private const string EncodingHeader = "grpc-encoding";
    private const string AcceptEncodingHeader = "grpc-accept-encoding";
    private const string Gzip = "gzip";
    /// <summary>Where Grpc.AspNetCore's GetHttpContext() finds the HttpContext of a context it did not create.</summary>
    private const string HttpContextKey = "__HttpContext";

    /// <summary>
    /// Grpc.AspNetCore's per-call response encoding: a response header by this name sets it and is
    /// sent as grpc-encoding (Grpc.AspNetCore.Server, HttpContextServerCallContext).
    /// </summary>
    private const string ResponseEncodingRequestHeader = "grpc-internal-encoding-request";

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        using var call = await StartAsync(context).ConfigureAwait(false);
        try
        {
            return await continuation(request, call.Context).ConfigureAwait(false);
        }
        catch (Exception exception) when (Translate(exception, call) is { } status)
        {
            throw status;
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        using var call = await StartAsync(context).ConfigureAwait(false);
        try
        {
            await continuation(request, responseStream, call.Context).ConfigureAwait(false);
        }
        catch (Exception exception) when (Translate(exception, call) is { } status)
        {
            throw status;
        }

        // A watch ends without an error when its token fires; at shutdown the client must learn why.
        call.ThrowIfStopping();
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        using var call = await StartAsync(context).ConfigureAwait(false);
        try
        {
            return await continuation(requestStream, call.Context).ConfigureAwait(false);
        }
        catch (Exception exception) when (Translate(exception, call) is { } status)
        {
            throw status;
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        using var call = await StartAsync(context).ConfigureAwait(false);
        try
        {
            await continuation(requestStream, responseStream, call.Context).ConfigureAwait(false);
        }
        catch (Exception exception) when (Translate(exception, call) is { } status)
        {
            throw status;
        }

        call.ThrowIfStopping();
    }

    private async ValueTask<Call> StartAsync(ServerCallContext context)
    {
        // The request message was read: a failure from here on is the handler's (see GrpcRefusalStatus).
        var http = context.GetHttpContext();
        http.Items[GrpcRefusalStatus.HandlerStartedItem] = true;
        // The server keeps its protocol headers out of context.RequestHeaders.
        var headers = http.Request.Headers;
        if (IsGzip(headers[EncodingHeader]) && Accepts(headers[AcceptEncodingHeader], Gzip))
        {
            // Sends the response headers now; a failure later still reaches the client, in trailers.
            await context.WriteResponseHeadersAsync(new Metadata { { ResponseEncodingRequestHeader, Gzip } }).ConfigureAwait(false);
        }

        return new Call(context, lifetime.ApplicationStopping);
    }

    /// <summary>The status to end the call with instead of <paramref name="exception"/>, or null to let it through.</summary>
    private RpcException? Translate(Exception exception, Call call)
    {
        if (call.Stopping)
        {
            return new RpcException(GrpcErrors.ShuttingDown);
        }

        if (exception is RpcException || call.Original.CancellationToken.IsCancellationRequested)
        {
            // A status already, or the client left or its deadline passed: the server knows what to send.
            return null;
        }

        Log.HandlerFailed(logger, call.Original.Method, exception);
        return new RpcException(GrpcErrors.Internal);
    }

    private static bool IsGzip(string? encoding) => string.Equals(encoding, Gzip, StringComparison.OrdinalIgnoreCase);

    private static bool Accepts(string? acceptEncoding, string encoding)
    {
        if (acceptEncoding is null)
        {
            return false;
        }

        foreach (var range in acceptEncoding.AsSpan().Split(','))
        {
            if (acceptEncoding.AsSpan(range).Trim().Equals(encoding, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>One call: its context as handlers see it, with the token that also fires on shutdown.</summary>
    private sealed class Call : IDisposable
    {
        private readonly CancellationToken _stopping;
        private readonly CancellationTokenSource _linked;

        public Call(ServerCallContext original, CancellationToken stopping)
        {
            Original = original;
            _stopping = stopping;
            _linked = CancellationTokenSource.CreateLinkedTokenSource(original.CancellationToken, stopping);
            // GetHttpContext() looks here when the context it is given is not the server's own.
            original.UserState[HttpContextKey] = original.GetHttpContext();
            Context = new StoppableCallContext(original, _linked.Token);
        }

        public ServerCallContext Original { get; }
        public ServerCallContext Context { get; }
        public bool Stopping => _stopping.IsCancellationRequested && !Original.CancellationToken.IsCancellationRequested;

        public void ThrowIfStopping()
        {
            if (Stopping)
            {
                throw new RpcException(GrpcErrors.ShuttingDown);
            }
        }

        public void Dispose() => _linked.Dispose();
    }

    /// <summary>The server's call context with another cancellation token; everything else is the original's.</summary>
    private sealed class StoppableCallContext(ServerCallContext inner, CancellationToken cancellationToken) : ServerCallContext
    {
        protected override string MethodCore => inner.Method;
        protected override string HostCore => inner.Host;
        protected override string PeerCore => inner.Peer;
        protected override DateTime DeadlineCore => inner.Deadline;
        protected override Metadata RequestHeadersCore => inner.RequestHeaders;
        protected override CancellationToken CancellationTokenCore => cancellationToken;
        protected override Metadata ResponseTrailersCore => inner.ResponseTrailers;
        protected override Status StatusCore { get => inner.Status; set => inner.Status = value; }
        protected override WriteOptions? WriteOptionsCore { get => inner.WriteOptions; set => inner.WriteOptions = value; }
        protected override AuthContext AuthContextCore => inner.AuthContext;
        protected override IDictionary<object, object> UserStateCore => inner.UserState;

        protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) => inner.CreatePropagationToken(options);

        protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => inner.WriteResponseHeadersAsync(responseHeaders);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5001, Level = LogLevel.Error, Message = "gRPC handler for {Method} threw; the client gets INTERNAL.")]
        public static partial void HandlerFailed(ILogger logger, string method, Exception exception);
    }
}
