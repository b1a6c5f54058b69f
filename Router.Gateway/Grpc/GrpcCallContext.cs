using Microsoft.AspNetCore.Http;

namespace Router.Gateway.Grpc;

/// <summary>What a handler knows about its call.</summary>
public sealed class GrpcCallContext
{
    internal GrpcCallContext(HttpContext httpContext, string method, DateTimeOffset? deadline, CancellationToken cancellationToken)
    {
        HttpContext = httpContext;
        Method = method;
        Deadline = deadline;
        CancellationToken = cancellationToken;
    }

    /// <summary>The full method path, e.g. <c>/compute.v1.ComputeService/Generate</c>.</summary>
    public string Method { get; }

    /// <summary>From grpc-timeout; null when the client set none.</summary>
    public DateTimeOffset? Deadline { get; }

    /// <summary>Fires when the client cancels (RST_STREAM), goes away, or the deadline passes.</summary>
    public CancellationToken CancellationToken { get; }

    public HttpContext HttpContext { get; }

    public IHeaderDictionary RequestHeaders => HttpContext.Request.Headers;
}

/// <summary>Writes the messages of a server stream; each write is flushed to the client before it completes.</summary>
public interface IGrpcStreamWriter<in TResponse>
{
    /// <summary>Writes one message and flushes it. Writes must not overlap.</summary>
    ValueTask WriteAsync(TResponse message, CancellationToken cancellationToken);
}

/// <summary>Handles a unary call.</summary>
public delegate ValueTask<TResponse> UnaryHandler<in TRequest, TResponse>(TRequest request, GrpcCallContext context);

/// <summary>Handles a server-streaming call.</summary>
public delegate ValueTask ServerStreamingHandler<in TRequest, TResponse>(TRequest request, IGrpcStreamWriter<TResponse> responses, GrpcCallContext context);

/// <summary>Handles a client-streaming call.</summary>
public delegate ValueTask<TResponse> ClientStreamingHandler<TRequest, TResponse>(IAsyncEnumerable<TRequest> requests, GrpcCallContext context);

/// <summary>Handles a bidirectional-streaming call.</summary>
public delegate ValueTask DuplexStreamingHandler<TRequest, TResponse>(IAsyncEnumerable<TRequest> requests, IGrpcStreamWriter<TResponse> responses, GrpcCallContext context);
