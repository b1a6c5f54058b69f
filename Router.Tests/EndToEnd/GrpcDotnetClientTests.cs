using Google.Protobuf.Reflection;
using Grpc.Core;
using Grpc.Net.Client;
using Router.Gateway.Grpc.Contracts.Compute;
using Health = Grpc.Health.V1.Health;
using HealthCheckRequest = Grpc.Health.V1.HealthCheckRequest;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;
using V1 = Grpc.Reflection.V1;
using V1Alpha = Grpc.Reflection.V1Alpha;

namespace Router.Tests.EndToEnd;

/// <summary>
/// Grpc.Net.Client with clients generated from protos/ (Grpc.Tools, GrpcServices="Client") against
/// the real daemon's gRPC port, routed to the simulated devices: the .NET peer of real-grpc.mjs.
/// </summary>
public sealed class GrpcDotnetClientTests : IClassFixture<RealDaemon>, IAsyncLifetime
{
    private const string Model = "llama3.2:1b";
    private static readonly TimeSpan Patience = RealDaemon.Patience;
    private readonly RealDaemon _daemon;
    private GrpcChannel _channel = null!;

    public GrpcDotnetClientTests(RealDaemon daemon) => _daemon = daemon;

    public async Task InitializeAsync()
    {
        await _daemon.ResetAsync();
        _channel = GrpcChannel.ForAddress($"http://127.0.0.1:{_daemon.GrpcPort}");
    }

    public Task DisposeAsync()
    {
        _channel.Dispose();
        return Task.CompletedTask;
    }

    private ComputeService.ComputeServiceClient Compute => new(_channel);

    private static GenerateRequest Request(string? target = null, int maxTokens = 8) => new()
    {
        Model = Model,
        Prompt = "Why is the sky blue?",
        Annotations = target is null ? null : new JobAnnotations { Target = target },
        Options = new GenerationOptions { MaxTokens = maxTokens },
    };

    [Fact]
    public async Task Generate_Unary_AnswerWithRoutingAndStats()
    {
        var response = await Compute.GenerateAsync(Request(maxTokens: 12), deadline: DateTime.UtcNow.Add(Patience));

        Assert.False(string.IsNullOrWhiteSpace(response.Response));
        Assert.Contains(response.BackendUsed, RealDaemon.BackendIds);
        Assert.Equal(response.BackendUsed, response.Routing.Backend);
        Assert.DoesNotContain(response.BackendUsed, response.Routing.Alternatives);
        Assert.Equal(12, response.Stats.TokensGenerated);
    }

    [Fact]
    public async Task GenerateStream_ServerStreaming_TokensThenDoneWithStats()
    {
        using var call = Compute.GenerateStream(Request(target: "nvidia", maxTokens: 15), deadline: DateTime.UtcNow.Add(Patience));
        var messages = new List<GenerateStreamResponse>();
        await foreach (var message in call.ResponseStream.ReadAllAsync())
        {
            messages.Add(message);
        }

        var last = messages[^1];
        Assert.True(last.Done);
        Assert.Equal("ollama-nvidia", last.BackendUsed);
        Assert.Equal(15, last.Stats.TokensGenerated);
        Assert.True(messages.Count > 2, $"{messages.Count} messages");
        Assert.All(messages[..^1], m => Assert.False(m.Done || m.Token.Length == 0));
    }

    [Fact]
    public async Task Generate_DeadlinePasses_DeadlineExceededAndSlotFreed()
    {
        // A very long answer on the slowest device under a short deadline.
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            Compute.GenerateAsync(Request(target: "cpu", maxTokens: 100_000), deadline: DateTime.UtcNow.AddMilliseconds(500)).ResponseAsync);

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        await _daemon.WaitForSlotsFreedAsync(TimeSpan.FromSeconds(10));
        Assert.True(_daemon.Simulator("cpu").TokensWritten < 100_000);
    }

    [Fact]
    public async Task GenerateStream_CancelMidStream_CancelledAndSlotFreed()
    {
        using var cancel = new CancellationTokenSource();
        using var call = Compute.GenerateStream(Request(target: "igpu", maxTokens: 100_000), cancellationToken: cancel.Token);
        for (var i = 0; i < 3; i++)
        {
            Assert.True(await call.ResponseStream.MoveNext());
        }

        await cancel.CancelAsync();

        Assert.Equal(StatusCode.Cancelled, (await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext())).StatusCode);
        await _daemon.WaitForSlotsFreedAsync(TimeSpan.FromSeconds(10));
        Assert.True(_daemon.Simulator("igpu").TokensWritten < 100_000);
    }

    [Fact]
    public async Task ListBackends_AfterRequests_MaxContextAndRequestsPerMinute()
    {
        for (var i = 0; i < 3; i++)
        {
            await Compute.GenerateAsync(Request(target: "npu", maxTokens: 2), deadline: DateTime.UtcNow.Add(Patience));
        }

        var backends = (await Compute.ListBackendsAsync(new ListBackendsRequest(), deadline: DateTime.UtcNow.Add(Patience))).Backends;

        Assert.Equal(RealDaemon.BackendIds.Order(), backends.Select(b => b.Id).Order());
        // The simulator's /api/show gives its chat models a 131072-token context, as llama3.2 has.
        Assert.All(backends, b => Assert.Equal(131072, b.Capabilities.MaxContext));
        Assert.True(backends.Single(b => b.Id == "ollama-npu").Metrics.RequestsPerMinute >= 3);
    }

    [Fact]
    public async Task Reflection_V1AndV1Alpha_ListAndDescribe()
    {
        string[] expected =
        [
            "compute.v1.ComputeService", "compute.v1.EfficiencyService", "ollama_proxy.OllamaProxy", "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection",
        ];

        using (var v1 = new V1.ServerReflection.ServerReflectionClient(_channel).ServerReflectionInfo(deadline: DateTime.UtcNow.Add(Patience)))
        {
            await v1.RequestStream.WriteAsync(new V1.ServerReflectionRequest { ListServices = "" });
            await v1.RequestStream.WriteAsync(new V1.ServerReflectionRequest { FileContainingSymbol = "compute.v1.ComputeService" });
            await v1.RequestStream.CompleteAsync();
            var answers = await v1.ResponseStream.ReadAllAsync().ToListAsync();

            Assert.Equal(expected.Order(), answers[0].ListServicesResponse.Service.Select(s => s.Name).Order());
            var file = FileDescriptorProto.Parser.ParseFrom(answers[1].FileDescriptorResponse.FileDescriptorProto[0]);
            Assert.Equal("compute/v1/compute.proto", file.Name);
            Assert.Equal(["Generate", "GenerateStream", "Chat", "ChatStream", "Embed", "ListBackends", "HealthCheck"], file.Service.Single().Method.Select(m => m.Name));
        }

        using var v1Alpha = new V1Alpha.ServerReflection.ServerReflectionClient(_channel).ServerReflectionInfo(deadline: DateTime.UtcNow.Add(Patience));
        await v1Alpha.RequestStream.WriteAsync(new V1Alpha.ServerReflectionRequest { ListServices = "" });
        await v1Alpha.RequestStream.WriteAsync(new V1Alpha.ServerReflectionRequest { FileByFilename = "grpc/health/v1/health.proto" });
        await v1Alpha.RequestStream.WriteAsync(new V1Alpha.ServerReflectionRequest { FileContainingSymbol = "no.such.Symbol" });
        await v1Alpha.RequestStream.CompleteAsync();
        var alpha = await v1Alpha.ResponseStream.ReadAllAsync().ToListAsync();

        Assert.Equal(expected.Order(), alpha[0].ListServicesResponse.Service.Select(s => s.Name).Order());
        var health = FileDescriptorProto.Parser.ParseFrom(alpha[1].FileDescriptorResponse.FileDescriptorProto[0]);
        Assert.Equal(("grpc.health.v1", "Health"), (health.Package, health.Service.Single().Name));
        Assert.Equal((int)StatusCode.NotFound, alpha[2].ErrorResponse.ErrorCode);
    }

    [Fact]
    public async Task HealthWatch_EveryBackendDownThenBack_NotServingThenServing()
    {
        var health = new Health.HealthClient(_channel);
        using var watch = health.Watch(new HealthCheckRequest { Service = "compute.v1.ComputeService" }, deadline: DateTime.UtcNow.Add(Patience * 2));
        Assert.Equal(ServingStatus.Serving, await NextAsync(watch));

        foreach (var simulator in _daemon.Host.Simulators)
        {
            await simulator.RefuseConnectionsAsync();
        }

        _daemon.ProbeAll();
        Assert.Equal(ServingStatus.NotServing, await NextAsync(watch));
        Assert.Equal(ServingStatus.NotServing, (await health.CheckAsync(new HealthCheckRequest { Service = "" })).Status);

        await _daemon.Simulator("npu").AcceptConnectionsAsync();
        _daemon.ProbeAll();
        Assert.Equal(ServingStatus.Serving, await NextAsync(watch));
    }

    private static async Task<ServingStatus> NextAsync(AsyncServerStreamingCall<global::Grpc.Health.V1.HealthCheckResponse> watch)
    {
        Assert.True(await watch.ResponseStream.MoveNext().WaitAsync(Patience));
        return watch.ResponseStream.Current.Status;
    }
}
