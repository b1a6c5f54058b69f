using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Router.Gateway.Grpc;

/// <summary>One entry of the method table: the path it answers and how to run a call of it.</summary>
internal abstract class GrpcMethod(MethodDescriptor descriptor)
{
    public MethodDescriptor Descriptor { get; } = descriptor;

    /// <summary>"/" Service-Name "/" Method-Name, Service-Name fully qualified.</summary>
    public string Path { get; } = "/" + descriptor.Service.FullName + "/" + descriptor.Name;

    public abstract Task InvokeAsync(GrpcServerCall call);
}

internal sealed class UnaryMethod<TRequest, TResponse>(MethodDescriptor descriptor, UnaryHandler<TRequest, TResponse> handler)
    : GrpcMethod(descriptor)
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>
{
    private static readonly MessageParser<TRequest> Parser = new(static () => new TRequest());

    public override async Task InvokeAsync(GrpcServerCall call)
    {
        var request = await call.ReadSingleMessageAsync(Parser).ConfigureAwait(false);
        var response = await handler(request, call.Context).ConfigureAwait(false);
        call.WriteMessage(response);
    }
}

internal sealed class ServerStreamingMethod<TRequest, TResponse>(MethodDescriptor descriptor, ServerStreamingHandler<TRequest, TResponse> handler)
    : GrpcMethod(descriptor)
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>
{
    private static readonly MessageParser<TRequest> Parser = new(static () => new TRequest());

    public override async Task InvokeAsync(GrpcServerCall call)
    {
        var request = await call.ReadSingleMessageAsync(Parser).ConfigureAwait(false);
        await handler(request, new GrpcStreamWriter<TResponse>(call), call.Context).ConfigureAwait(false);
    }
}

internal sealed class ClientStreamingMethod<TRequest, TResponse>(MethodDescriptor descriptor, ClientStreamingHandler<TRequest, TResponse> handler)
    : GrpcMethod(descriptor)
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>
{
    private static readonly MessageParser<TRequest> Parser = new(static () => new TRequest());

    public override async Task InvokeAsync(GrpcServerCall call)
    {
        var response = await handler(call.ReadAllMessagesAsync(Parser, call.Context.CancellationToken), call.Context).ConfigureAwait(false);
        call.WriteMessage(response);
    }
}

internal sealed class DuplexStreamingMethod<TRequest, TResponse>(MethodDescriptor descriptor, DuplexStreamingHandler<TRequest, TResponse> handler)
    : GrpcMethod(descriptor)
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>
{
    private static readonly MessageParser<TRequest> Parser = new(static () => new TRequest());

    public override Task InvokeAsync(GrpcServerCall call) =>
        handler(call.ReadAllMessagesAsync(Parser, call.Context.CancellationToken), new GrpcStreamWriter<TResponse>(call), call.Context).AsTask();
}

internal sealed class GrpcStreamWriter<TResponse>(GrpcServerCall call) : IGrpcStreamWriter<TResponse>
    where TResponse : class, IMessage<TResponse>
{
    public ValueTask WriteAsync(TResponse message, CancellationToken cancellationToken) => call.WriteAndFlushAsync(message, cancellationToken);
}
