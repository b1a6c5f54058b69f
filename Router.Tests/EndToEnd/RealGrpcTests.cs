using System.Globalization;
using Router.Tests.Grpc;

namespace Router.Tests.EndToEnd;

/// <summary>
/// Issue 5's proof: @grpc/grpc-js with @grpc/proto-loader (and grpc-reflection-js) calling the real
/// daemon's gRPC port, routed to the simulated devices. Each scenario of real-grpc.mjs asserts what
/// the client sees; cancellation and deadlines are followed by a check that the slot was given back.
/// </summary>
public sealed class RealGrpcTests : IClassFixture<RealDaemon>, IAsyncLifetime
{
    private static readonly TimeSpan ScriptLimit = TimeSpan.FromSeconds(60);
    private readonly RealDaemon _daemon;

    public RealGrpcTests(RealDaemon daemon) => _daemon = daemon;

    public Task InitializeAsync() => _daemon.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task RunAsync(string scenario)
    {
        var (code, stdout, stderr) = await NodeProcess.RunAsync("real-grpc.mjs", ScriptLimit,
            _daemon.GrpcPort.ToString(CultureInfo.InvariantCulture), scenario);
        Assert.True(code == 0, $"node real-grpc.mjs {scenario} exited {code}\nstdout:\n{stdout}\nstderr:\n{stderr}");
        Assert.Contains($"ok {scenario}", stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("generate")]
    [InlineData("generate-stream")]
    [InlineData("chat")]
    [InlineData("embed")]
    [InlineData("admin")]
    [InlineData("annotations")]
    [InlineData("not-found")]
    [InlineData("efficiency")]
    [InlineData("health")]
    [InlineData("reflection")]
    [InlineData("ollama-proxy")]
    public async Task GrpcJs_Scenario_Answered(string scenario)
    {
        await RunAsync(scenario);
        await _daemon.WaitForSlotsFreedAsync();
    }

    [Fact]
    public async Task GenerateStream_ClientCancelsMidStream_SlotFreedOnRouterAndDevice()
    {
        await RunAsync("cancel");

        await _daemon.WaitForSlotsFreedAsync(TimeSpan.FromSeconds(10));
        Assert.True(_daemon.Simulator("igpu").TokensWritten < 100_000);
    }

    [Fact]
    public async Task Generate_DeadlineExceeded_SlotFreedOnRouterAndDevice()
    {
        await RunAsync("deadline");

        await _daemon.WaitForSlotsFreedAsync(TimeSpan.FromSeconds(10));
        Assert.True(_daemon.Simulator("cpu").TokensWritten < 100_000);
    }
}
