using Grpc.Core;
using Router.Gateway.Grpc.Contracts.Compute;

namespace Router.Gateway.Grpc.Services;

/// <summary>
/// ollama_proxy.OllamaProxy, the service name clients of the first router call: the same messages
/// and answers as compute.v1.ComputeService's Generate and GenerateStream.
/// </summary>
internal sealed class OllamaProxyGrpcService(ComputeGrpcService compute) : Contracts.OllamaProxy.OllamaProxy.OllamaProxyBase
{
    public override Task<GenerateResponse> Generate(GenerateRequest request, ServerCallContext context) =>
        compute.Generate(request, context);

    public override Task GenerateStream(GenerateRequest request, IServerStreamWriter<GenerateStreamResponse> responseStream, ServerCallContext context) =>
        compute.GenerateStream(request, responseStream, context);
}
