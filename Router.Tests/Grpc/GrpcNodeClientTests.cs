using System.Text.Json;
using Router.Actors.Backends;
using Router.Actors.Routing;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Router.Tests.Grpc;

/// <summary>
/// The proof with a real peer: @grpc/grpc-js with @grpc/proto-loader (and grpc-reflection-js)
/// calling the gRPC surface on a real Kestrel HTTP/2 listener. The assertions about answers live
/// in Router.Tests/e2e/grpc-client.mjs; these tests assert its exit code and what the server saw.
/// </summary>
public sealed class GrpcNodeClientTests : IAsyncLifetime
{
    private static readonly TimeSpan NodeTimeout = TimeSpan.FromSeconds(60);
    private GrpcTestServer _server = null!;

    public async Task InitializeAsync() => _server = await GrpcTestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<string> RunScenarioAsync(string scenario)
    {
        var (code, stdout, stderr) = await NodeProcess.RunAsync("grpc-client.mjs", NodeTimeout, _server.GrpcPort.ToString(System.Globalization.CultureInfo.InvariantCulture), scenario);
        Assert.True(code == 0, $"node {scenario} exited {code}\nstdout:\n{stdout}\nstderr:\n{stderr}");
        Assert.Contains($"ok {scenario}", stdout, StringComparison.Ordinal);
        return stdout;
    }

    [Fact]
    public async Task Generate_GrpcJsClientWithAnnotations_AnsweredAndHintsMapped()
    {
        await RunScenarioAsync("generate");

        Assert.True(_server.Router.Requests.TryDequeue(out var request));
        Assert.Equal("llama3.2:1b", request.Model);
        Assert.Equal("npu", request.Hints.Target);
        Assert.True(request.Hints.LatencyCritical);
        Assert.Equal(900, request.Hints.MaxLatencyMs);
        Assert.Equal(15, request.Hints.MaxPowerWatts);
        Assert.Equal(Priority.High, request.Hints.Priority);
        Assert.Equal("voice", request.Hints.MediaType);
        Assert.Equal("req-7", request.Hints.RequestId);
        Assert.Equal(16, request.ExpectedTokens);
        Assert.Equal(BackendApi.OllamaGenerate, request.Native.Api);
        using var native = JsonDocument.Parse(request.Native.Body);
        Assert.Equal(16, native.RootElement.GetProperty("options").GetProperty("num_predict").GetInt32());
        Assert.Equal(BackendApi.OpenAICompletions, request.OpenAI!.Api);
    }

    [Fact]
    public async Task GenerateStream_GrpcJsClient_TokensThenDoneWithStats() => await RunScenarioAsync("generate-stream");

    [Fact]
    public async Task ChatAndChatStream_GrpcJsClient_Answered() => await RunScenarioAsync("chat");

    [Fact]
    public async Task Embed_GrpcJsClient_ReturnsVector() => await RunScenarioAsync("embed");

    [Fact]
    public async Task ListBackendsAndHealthCheck_GrpcJsClient_FromAdminSnapshots() => await RunScenarioAsync("admin");

    [Fact]
    public async Task OllamaProxyGenerate_LegacyServiceName_Answered() => await RunScenarioAsync("ollama-proxy");

    [Fact]
    public async Task Errors_RouterAndAnnotationFailures_MapToStatuses() => await RunScenarioAsync("errors");

    [Fact]
    public async Task GenerateStream_ClientCancelsMidStream_ServerDisposesBackendStream()
    {
        await RunScenarioAsync("cancel");
        await _server.Router.StreamAbandoned.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Generate_DeadlinePasses_DeadlineExceededAndHandlerCancelled()
    {
        await RunScenarioAsync("deadline");
        await _server.Router.CallCancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Generate_MessageOverLimit_ResourceExhausted()
    {
        await RunScenarioAsync("oversized");
        Assert.Empty(_server.Router.Requests);
    }

    [Fact]
    public async Task Generate_GzipChannel_CompressedBothWays()
    {
        await RunScenarioAsync("gzip");

        // grpc-js hides grpc-encoding from its callers, so the proof is the server's view of the wire.
        var calls = _server.Observed.ToArray();
        Assert.Contains(calls, c => c.Path == "/compute.v1.ComputeService/Generate" && c.RequestFlag == 1 && c.ResponseEncoding == "gzip");
        Assert.Contains(calls, c => c.Path == "/compute.v1.ComputeService/GenerateStream" && c.RequestFlag == 1 && c.ResponseEncoding == "gzip");
    }

    [Fact]
    public async Task UnknownMethodAndService_GrpcJsClient_Unimplemented() => await RunScenarioAsync("unimplemented");

    [Fact]
    public async Task Reflection_GrpcReflectionJsAndV1Client_ListAndDescribe() => await RunScenarioAsync("reflection");

    [Fact]
    public async Task Health_CheckAndWatchUnknown_StandardAnswers() => await RunScenarioAsync("health");

    [Fact]
    public async Task HealthWatch_StatusChanges_ClientSeesEachChange()
    {
        await using var node = NodeProcess.Start("grpc-client.mjs", _server.GrpcPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "health-watch");
        await node.WaitForLineAsync("status SERVING", NodeTimeout);
        _server.SetHealth("compute.v1.ComputeService", ServingStatus.NotServing);
        await node.WaitForLineAsync("status NOT_SERVING", NodeTimeout);
        var code = await node.WaitForExitAsync(NodeTimeout);
        Assert.True(code == 0, $"exit {code}\n{node.Stdout}\n{node.Stderr}");
    }

    [Fact]
    public async Task Efficiency_GetSetAndWatch_ModeChangesStreamed() => await RunScenarioAsync("efficiency");
}
