using Grpc.Core;
using Grpc.Health.V1;
using Grpc.HealthCheck;
using Router.Actors.Routing;
using Router.Gateway.Grpc.Health;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Router.Tests.Grpc;

/// <summary>What grpc.health.v1 answers, through Grpc.HealthCheck's service, as the backends change.</summary>
public sealed class GrpcHealthStatusTests
{
    private static readonly string[] EveryService =
    [
        "", "compute.v1.ComputeService", "ollama_proxy.OllamaProxy", "compute.v1.EfficiencyService",
        "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection",
    ];

    private static async Task<ServingStatus> CheckAsync(HealthServiceImpl health, string service) =>
        (await health.Check(new HealthCheckRequest { Service = service }, null!)).Status;

    [Fact]
    public async Task New_BeforeAnyBackendIsHeard_EveryServiceServing()
    {
        var health = new HealthServiceImpl();
        _ = new GrpcHealthStatus(health);

        foreach (var service in EveryService)
        {
            Assert.Equal(ServingStatus.Serving, await CheckAsync(health, service));
        }

        Assert.Equal(StatusCode.NotFound, (await Assert.ThrowsAsync<RpcException>(() => CheckAsync(health, "nope.Service"))).StatusCode);
    }

    [Theory]
    [InlineData(BackendHealth.Healthy, ServingStatus.Serving)]
    [InlineData(BackendHealth.Degraded, ServingStatus.Serving)]
    [InlineData(BackendHealth.Unhealthy, ServingStatus.NotServing)]
    [InlineData(BackendHealth.Ejected, ServingStatus.NotServing)]
    [InlineData(BackendHealth.Unknown, ServingStatus.NotServing)]
    public async Task UpdateFromBackends_BestBackend_ServerAndRoutingServicesFollow(BackendHealth best, ServingStatus expected)
    {
        var health = new HealthServiceImpl();
        var status = new GrpcHealthStatus(health);

        status.UpdateFromBackends([
            new BackendSnapshot { Id = "a", Health = BackendHealth.Unhealthy },
            new BackendSnapshot { Id = "b", Health = best },
        ]);

        Assert.Equal(expected, await CheckAsync(health, ""));
        Assert.Equal(expected, await CheckAsync(health, "compute.v1.ComputeService"));
        Assert.Equal(expected, await CheckAsync(health, "ollama_proxy.OllamaProxy"));
        // Setting the mode and asking what is served work whatever the backends do.
        Assert.Equal(ServingStatus.Serving, await CheckAsync(health, "compute.v1.EfficiencyService"));
        Assert.Equal(ServingStatus.Serving, await CheckAsync(health, "grpc.reflection.v1.ServerReflection"));
    }

    [Fact]
    public async Task UpdateFromBackends_NoBackends_NotServing()
    {
        var health = new HealthServiceImpl();
        new GrpcHealthStatus(health).UpdateFromBackends([]);

        Assert.Equal(ServingStatus.NotServing, await CheckAsync(health, ""));
    }
}
