using Google.Protobuf.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Router.Actors.Inference;
using Router.Gateway.Grpc;
using Router.Gateway.Grpc.Contracts.Reflection.V1;
using Router.Gateway.Grpc.Health;
using Router.Gateway.Grpc.Reflection;
using ServingStatus = Router.Gateway.Grpc.Contracts.Health.HealthCheckResponse.Types.ServingStatus;

namespace Router.Tests.Grpc;

public sealed class ReflectionAndHealthTests
{
    private static GrpcServiceRegistry Registry()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IInferenceRouter, FakeInferenceRouter>();
        services.AddSingleton<IRouterAdmin, FakeRouterAdmin>();
        services.AddRouterGrpc();
        return services.BuildServiceProvider().GetRequiredService<GrpcServiceRegistry>();
    }

    [Fact]
    public void AddRouterGrpc_AllServices_Registered()
    {
        Assert.Equal(
            ["compute.v1.ComputeService", "ollama_proxy.OllamaProxy", "compute.v1.EfficiencyService", "grpc.health.v1.Health",
             "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"],
            Registry().Services);
    }

    [Theory]
    [InlineData("compute.v1.ComputeService", "compute/v1/compute.proto")]
    [InlineData(".compute.v1.GenerateRequest", "compute/v1/compute.proto")]
    [InlineData("compute.v1.ComputeService.GenerateStream", "compute/v1/compute.proto")]
    [InlineData("compute.v1.JobAnnotations.priority", "compute/v1/compute.proto")]
    [InlineData("compute.v1.EfficiencyMode", "compute/v1/efficiency.proto")]
    [InlineData("ollama_proxy.OllamaProxy", "ollama_proxy/ollama_proxy.proto")]
    [InlineData("grpc.health.v1.HealthCheckResponse.ServingStatus", "grpc/health/v1/health.proto")]
    public void Answer_FileContainingSymbol_FileFirst(string symbol, string file)
    {
        var response = new ReflectionService(Registry()).Answer(new ServerReflectionRequest { FileContainingSymbol = symbol });

        var first = FileDescriptorProto.Parser.ParseFrom(response.FileDescriptorResponse.FileDescriptorProto[0]);
        Assert.Equal(file, first.Name);
    }

    [Fact]
    public void Answer_FileWithImport_DependencyIncluded()
    {
        var response = new ReflectionService(Registry()).Answer(new ServerReflectionRequest { FileByFilename = "ollama_proxy/ollama_proxy.proto" });

        var names = response.FileDescriptorResponse.FileDescriptorProto.Select(b => FileDescriptorProto.Parser.ParseFrom(b).Name);
        Assert.Equal(["ollama_proxy/ollama_proxy.proto", "compute/v1/compute.proto"], names);
    }

    [Theory]
    [InlineData("no.such.Type")]
    [InlineData("")]
    public void Answer_UnknownSymbol_NotFoundErrorResponse(string symbol)
    {
        var response = new ReflectionService(Registry()).Answer(new ServerReflectionRequest { FileContainingSymbol = symbol, Host = "h" });

        Assert.Equal((int)GrpcStatusCode.NotFound, response.ErrorResponse.ErrorCode);
        Assert.Equal("h", response.ValidHost);
        Assert.Equal(symbol, response.OriginalRequest.FileContainingSymbol);
    }

    [Fact]
    public void Answer_ExtensionNumbersOfKnownType_Empty()
    {
        var response = new ReflectionService(Registry()).Answer(new ServerReflectionRequest { AllExtensionNumbersOfType = "compute.v1.GenerateRequest" });

        Assert.Equal("compute.v1.GenerateRequest", response.AllExtensionNumbersResponse.BaseTypeName);
        Assert.Empty(response.AllExtensionNumbersResponse.ExtensionNumber);
    }

    [Fact]
    public void AddRouterGrpc_NoBackendUpdateYet_EveryServiceServing()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IInferenceRouter, FakeInferenceRouter>();
        services.AddSingleton<IRouterAdmin, FakeRouterAdmin>();
        services.AddRouterGrpc();
        using var provider = services.BuildServiceProvider();
        var registry = provider.GetRequiredService<GrpcServiceRegistry>();
        var tracker = provider.GetRequiredService<HealthStatusTracker>();

        Assert.Equal(ServingStatus.Serving, tracker.GetStatus(""));
        Assert.All(registry.Services, service => Assert.Equal(ServingStatus.Serving, tracker.GetStatus(service)));
    }

    [Fact]
    public void UpdateFromBackends_NoneHealthy_NotServing()
    {
        var tracker = new HealthStatusTracker();
        var admin = new FakeRouterAdmin();
        tracker.UpdateFromBackends(admin.Backends);
        Assert.Equal(ServingStatus.Serving, tracker.GetStatus(""));

        tracker.UpdateFromBackends([.. admin.Backends.Select(b => b with { Health = Router.Actors.Routing.BackendHealth.Unhealthy })]);

        Assert.Equal(ServingStatus.NotServing, tracker.GetStatus(""));
        Assert.Equal(ServingStatus.NotServing, tracker.GetStatus("compute.v1.ComputeService"));
        Assert.Null(tracker.GetStatus("unknown"));
    }

    [Fact]
    public void SetStatus_ServiceUnknown_Rejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new HealthStatusTracker().SetStatus("svc", ServingStatus.ServiceUnknown));

    [Fact]
    public async Task Watch_StatusChanges_LatestDelivered()
    {
        var tracker = new HealthStatusTracker();
        using var watcher = tracker.Watch("svc");
        tracker.SetStatus("svc", ServingStatus.Serving);
        tracker.SetStatus("other", ServingStatus.NotServing);
        tracker.SetStatus("svc", ServingStatus.NotServing);

        var status = await watcher.Channel.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(ServingStatus.NotServing, status);
        Assert.False(watcher.Channel.Reader.TryRead(out _));
    }
}
