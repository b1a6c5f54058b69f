using System.Collections.Frozen;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Router.Gateway.Grpc;

/// <summary>
/// The method table: "/package.Service/Method" → handler. Filled at startup, then frozen by
/// <see cref="GrpcEndpointExtensions.MapGrpcRouter"/>; lookups after that take no lock.
/// The proto files of the registered methods are kept for server reflection.
/// </summary>
public sealed class GrpcServiceRegistry
{
    private readonly Dictionary<string, GrpcMethod> _methods = new(StringComparer.Ordinal);
    private readonly List<string> _services = [];
    private readonly List<FileDescriptor> _files = [];
    private FrozenDictionary<string, GrpcMethod>? _frozen;

    /// <summary>Fully qualified names of the services with at least one method, in registration order.</summary>
    public IReadOnlyList<string> Services => _services;

    /// <summary>The proto files that define the registered services (dependencies not included).</summary>
    public IReadOnlyList<FileDescriptor> Files => _files;

    public bool IsFrozen => _frozen is not null;

    public GrpcServiceRegistry AddUnary<TRequest, TResponse>(MethodDescriptor method, UnaryHandler<TRequest, TResponse> handler)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>
    {
        Check<TRequest, TResponse>(method, clientStreaming: false, serverStreaming: false, handler);
        return Add(new UnaryMethod<TRequest, TResponse>(method, handler));
    }

    public GrpcServiceRegistry AddServerStreaming<TRequest, TResponse>(MethodDescriptor method, ServerStreamingHandler<TRequest, TResponse> handler)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>
    {
        Check<TRequest, TResponse>(method, clientStreaming: false, serverStreaming: true, handler);
        return Add(new ServerStreamingMethod<TRequest, TResponse>(method, handler));
    }

    public GrpcServiceRegistry AddClientStreaming<TRequest, TResponse>(MethodDescriptor method, ClientStreamingHandler<TRequest, TResponse> handler)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>
    {
        Check<TRequest, TResponse>(method, clientStreaming: true, serverStreaming: false, handler);
        return Add(new ClientStreamingMethod<TRequest, TResponse>(method, handler));
    }

    public GrpcServiceRegistry AddDuplexStreaming<TRequest, TResponse>(MethodDescriptor method, DuplexStreamingHandler<TRequest, TResponse> handler)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>
    {
        Check<TRequest, TResponse>(method, clientStreaming: true, serverStreaming: true, handler);
        return Add(new DuplexStreamingMethod<TRequest, TResponse>(method, handler));
    }

    internal bool TryGetMethod(string path, out GrpcMethod method)
    {
        var table = _frozen ?? throw new InvalidOperationException("The registry is not frozen yet.");
        return table.TryGetValue(path, out method!);
    }

    internal IEnumerable<GrpcMethod> Methods => _frozen?.Values ?? (IEnumerable<GrpcMethod>)_methods.Values;

    /// <summary>Ends registration; called once when the endpoints are mapped.</summary>
    internal void Freeze() => _frozen ??= _methods.ToFrozenDictionary(StringComparer.Ordinal);

    private GrpcServiceRegistry Add(GrpcMethod method)
    {
        if (_frozen is not null)
        {
            throw new InvalidOperationException("Methods must be registered before the gRPC endpoints are mapped.");
        }

        if (!_methods.TryAdd(method.Path, method))
        {
            throw new InvalidOperationException($"The method {method.Path} is already registered.");
        }

        var service = method.Descriptor.Service.FullName;
        if (!_services.Contains(service))
        {
            _services.Add(service);
        }

        if (!_files.Contains(method.Descriptor.File))
        {
            _files.Add(method.Descriptor.File);
        }

        return this;
    }

    private static void Check<TRequest, TResponse>(MethodDescriptor method, bool clientStreaming, bool serverStreaming, Delegate handler)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(handler);
        if (method.IsClientStreaming != clientStreaming || method.IsServerStreaming != serverStreaming)
        {
            throw new ArgumentException($"{method.FullName} is declared with another streaming shape.", nameof(method));
        }

        if (method.InputType.ClrType != typeof(TRequest) || method.OutputType.ClrType != typeof(TResponse))
        {
            throw new ArgumentException(
                $"{method.FullName} takes {method.InputType.ClrType?.Name} and returns {method.OutputType.ClrType?.Name}, not {typeof(TRequest).Name} and {typeof(TResponse).Name}.",
                nameof(method));
        }
    }
}
