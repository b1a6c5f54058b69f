using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Router.Actors.Config;
using Router.Actors.Inference;
using Router.Actors.Routing;
using Router.Gateway.Grpc;
using Router.Gateway.Simulation;

namespace Router.Tests.Grpc;

/// <summary>
/// grpc-js against the gRPC surface over the real router (RouterRuntime) and a simulated device:
/// the whole path a gRPC client takes, cancellation reaching the device included.
/// </summary>
public sealed class GrpcRealRouterTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private SimulatedBackend _device = null!;
    private RouterRuntime _runtime = null!;
    private WebApplication _app = null!;
    private int _port;

    public async Task InitializeAsync()
    {
        // Real time on the fastest device: a 400-token answer takes seconds, long enough to cancel.
        _device = await SimulatedBackend.StartAsync(DeviceProfile.Nvidia, new SimulatorOptions { TimeScale = 1 });
        _runtime = await RouterRuntime.StartAsync(new RouterConfig
        {
            Backends = [new BackendConfig { Id = "sim-nvidia", Hardware = "nvidia", Endpoint = _device.Endpoint, PowerWatts = 55, AvgLatencyMs = 150, MaxConcurrent = 2 }],
        });

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        ListenOptions? listener = null;
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o =>
        {
            o.Protocols = HttpProtocols.Http2;
            listener = o;
        }));
        builder.Services.AddSingleton(_runtime.Router);
        builder.Services.AddSingleton<IRouterAdmin>(_runtime);
        builder.Services.AddSingleton(_runtime.Materializer);
        builder.Services.AddRouterGrpc(new GrpcServerOptions());
        _app = builder.Build();
        _app.MapRouterGrpc();
        using var cts = new CancellationTokenSource(Timeout);
        await _app.StartAsync(cts.Token);
        _port = listener!.IPEndPoint!.Port;
        await UntilAsync(async () => (await _runtime.GetBackendsAsync(default)) is [{ Health: BackendHealth.Healthy, ModelsKnown: true }], "the device to be healthy");
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _runtime.DisposeAsync();
        await _device.DisposeAsync();
    }

    [Fact]
    public async Task EveryMethod_RealRouterOverSimulator_AnsweredAndCancelFreesTheDevice()
    {
        var (code, stdout, stderr) = await NodeProcess.RunAsync("grpc-client.mjs", Timeout, _port.ToString(System.Globalization.CultureInfo.InvariantCulture), "real-router");
        Assert.True(code == 0, $"exit {code}\nstdout:\n{stdout}\nstderr:\n{stderr}");

        // The cancelled answer would take 5 s (400 tokens at 80 tokens/s); it must stop on the device
        // and free the router's slot well before that.
        var stopWithin = TimeSpan.FromSeconds(2);
        await UntilAsync(() => Task.FromResult(_device.ActiveRequests == 0), "the device to stop generating", stopWithin);
        await UntilAsync(async () => (await _runtime.GetBackendsAsync(default))[0].InFlight == 0, "the slot to be freed", stopWithin);
    }

    /// <summary>Re-checks a condition the runtime exposes no signal for, up to the timeout.</summary>
    private static async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan? within = null)
    {
        using var timeout = new CancellationTokenSource(within ?? Timeout);
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
        while (!await condition())
        {
            if (!await tick.WaitForNextTickAsync(timeout.Token).AsTask().ContinueWith(t => t.IsCompletedSuccessfully, TaskScheduler.Default))
            {
                throw new TimeoutException($"Timed out waiting for {what}.");
            }
        }
    }
}
