using System.Collections.Frozen;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Router.Gateway.Grpc.Contracts.Reflection.V1;
using V1Alpha = Router.Gateway.Grpc.Contracts.Reflection.V1Alpha;

namespace Router.Gateway.Grpc.Reflection;

/// <summary>
/// Server reflection (grpc.reflection.v1 and v1alpha) over the files of the registered services.
/// One response per request on one bidirectional stream; a request that cannot be answered gets
/// an ErrorResponse in the stream, not a call status. The two versions share one wire format,
/// so v1alpha is answered by re-reading its bytes as v1.
/// </summary>
internal sealed class ReflectionService(GrpcServiceRegistry registry)
{
    private SymbolIndex? _index;

    public void Register(GrpcServiceRegistry target)
    {
        target.AddDuplexStreaming<ServerReflectionRequest, ServerReflectionResponse>(
            ReflectionReflection.Descriptor.Services[0].FindMethodByName("ServerReflectionInfo"), InfoAsync);
        target.AddDuplexStreaming<V1Alpha.ServerReflectionRequest, V1Alpha.ServerReflectionResponse>(
            V1Alpha.ReflectionReflection.Descriptor.Services[0].FindMethodByName("ServerReflectionInfo"), InfoV1AlphaAsync);
    }

    public async ValueTask InfoAsync(IAsyncEnumerable<ServerReflectionRequest> requests, IGrpcStreamWriter<ServerReflectionResponse> responses, GrpcCallContext context)
    {
        var token = context.CancellationToken;
        await foreach (var request in requests.ConfigureAwait(false).WithCancellation(token))
        {
            await responses.WriteAsync(Answer(request), token).ConfigureAwait(false);
        }
    }

    public async ValueTask InfoV1AlphaAsync(IAsyncEnumerable<V1Alpha.ServerReflectionRequest> requests, IGrpcStreamWriter<V1Alpha.ServerReflectionResponse> responses, GrpcCallContext context)
    {
        var token = context.CancellationToken;
        await foreach (var request in requests.ConfigureAwait(false).WithCancellation(token))
        {
            var answer = Answer(ServerReflectionRequest.Parser.ParseFrom(request.ToByteString()));
            await responses.WriteAsync(V1Alpha.ServerReflectionResponse.Parser.ParseFrom(answer.ToByteString()), token).ConfigureAwait(false);
        }
    }

    internal ServerReflectionResponse Answer(ServerReflectionRequest request)
    {
        var index = _index ??= new SymbolIndex(registry);
        var response = new ServerReflectionResponse { ValidHost = request.Host, OriginalRequest = request };
        switch (request.MessageRequestCase)
        {
            case ServerReflectionRequest.MessageRequestOneofCase.ListServices:
                var list = new ListServiceResponse();
                foreach (var service in registry.Services)
                {
                    list.Service.Add(new ServiceResponse { Name = service });
                }

                response.ListServicesResponse = list;
                break;

            case ServerReflectionRequest.MessageRequestOneofCase.FileByFilename:
                SetFile(response, index.FindFile(request.FileByFilename), $"File not found: {request.FileByFilename}.");
                break;

            case ServerReflectionRequest.MessageRequestOneofCase.FileContainingSymbol:
                SetFile(response, index.FindSymbol(request.FileContainingSymbol), $"Symbol not found: {request.FileContainingSymbol}.");
                break;

            case ServerReflectionRequest.MessageRequestOneofCase.AllExtensionNumbersOfType:
                // Our protos declare no extensions: a known type has none, an unknown one is not found.
                if (index.FindSymbol(request.AllExtensionNumbersOfType) is not null)
                {
                    response.AllExtensionNumbersResponse = new ExtensionNumberResponse { BaseTypeName = request.AllExtensionNumbersOfType };
                }
                else
                {
                    SetError(response, GrpcStatusCode.NotFound, $"Type not found: {request.AllExtensionNumbersOfType}.");
                }

                break;

            case ServerReflectionRequest.MessageRequestOneofCase.FileContainingExtension:
                SetError(response, GrpcStatusCode.NotFound,
                    $"Extension not found: {request.FileContainingExtension.ContainingType} {request.FileContainingExtension.ExtensionNumber}.");
                break;

            default:
                SetError(response, GrpcStatusCode.InvalidArgument, "The request names no reflection query.");
                break;
        }

        return response;
    }

    /// <summary>The file, then its transitive dependencies, each once, so a client can build every type it mentions.</summary>
    private static void SetFile(ServerReflectionResponse response, FileDescriptor? file, string notFound)
    {
        if (file is null)
        {
            SetError(response, GrpcStatusCode.NotFound, notFound);
            return;
        }

        var files = new FileDescriptorResponse();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Queue<FileDescriptor>();
        pending.Enqueue(file);
        while (pending.TryDequeue(out var next))
        {
            if (!seen.Add(next.Name))
            {
                continue;
            }

            files.FileDescriptorProto.Add(next.SerializedData);
            foreach (var dependency in next.Dependencies)
            {
                pending.Enqueue(dependency);
            }
        }

        response.FileDescriptorResponse = files;
    }

    private static void SetError(ServerReflectionResponse response, GrpcStatusCode code, string message) =>
        response.ErrorResponse = new ErrorResponse { ErrorCode = (int)code, ErrorMessage = message };

    /// <summary>Every file reachable from the registry and every symbol they define, by full name.</summary>
    internal sealed class SymbolIndex
    {
        private readonly FrozenDictionary<string, FileDescriptor> _files;
        private readonly FrozenDictionary<string, FileDescriptor> _symbols;

        public SymbolIndex(GrpcServiceRegistry registry)
        {
            var files = new Dictionary<string, FileDescriptor>(StringComparer.Ordinal);
            var symbols = new Dictionary<string, FileDescriptor>(StringComparer.Ordinal);
            var pending = new Stack<FileDescriptor>(registry.Files);
            while (pending.TryPop(out var file))
            {
                if (!files.TryAdd(file.Name, file))
                {
                    continue;
                }

                foreach (var service in file.Services)
                {
                    symbols.TryAdd(service.FullName, file);
                    foreach (var method in service.Methods)
                    {
                        symbols.TryAdd(method.FullName, file);
                    }
                }

                foreach (var message in file.MessageTypes)
                {
                    AddMessage(message, file, symbols);
                }

                foreach (var enumType in file.EnumTypes)
                {
                    symbols.TryAdd(enumType.FullName, file);
                }

                foreach (var dependency in file.Dependencies)
                {
                    pending.Push(dependency);
                }
            }

            _files = files.ToFrozenDictionary(StringComparer.Ordinal);
            _symbols = symbols.ToFrozenDictionary(StringComparer.Ordinal);
        }

        public FileDescriptor? FindFile(string name) => _files.GetValueOrDefault(name);

        /// <summary>A symbol may come with a leading dot (".compute.v1.GenerateRequest").</summary>
        public FileDescriptor? FindSymbol(string symbol) => _symbols.GetValueOrDefault(symbol.TrimStart('.'));

        private static void AddMessage(MessageDescriptor message, FileDescriptor file, Dictionary<string, FileDescriptor> symbols)
        {
            symbols.TryAdd(message.FullName, file);
            foreach (var field in message.Fields.InDeclarationOrder())
            {
                symbols.TryAdd(message.FullName + "." + field.Name, file);
            }

            foreach (var nested in message.NestedTypes)
            {
                AddMessage(nested, file, symbols);
            }

            foreach (var enumType in message.EnumTypes)
            {
                symbols.TryAdd(enumType.FullName, file);
            }
        }
    }
}
