using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Router.Actors.Inference;
using Router.Gateway.Grpc;
using Router.Gateway.Grpc.Health;
using ServingStatus = Router.Gateway.Grpc.Contracts.Health.HealthCheckResponse.Types.ServingStatus;

using Router.Tests.TestKit;

namespace Router.Tests.Grpc;

/// <summary>
/// A real Kestrel server on 127.0.0.1, port 0: one HTTP/2-only (h2c) listener for gRPC, as the
/// host wires it, and one HTTP/1.1+HTTP/2 listener to prove a gRPC request over HTTP/1.1 is refused.
/// </summary>
internal sealed class GrpcTestServer : IAsyncDisposable
{
    public const int TestMaxMessageSize = 64 * 1024;

    private readonly WebApplication _app;
    private int _disposed;

    private GrpcTestServer(WebApplication app, int grpcPort, int mixedPort, System.Collections.Concurrent.ConcurrentQueue<ObservedCall> observed)
    {
        _app = app;
        Observed = observed;
        GrpcPort = grpcPort;
        MixedPort = mixedPort;
    }

    public FakeInferenceRouter Router => _app.Services.GetRequiredService<FakeInferenceRouter>();
    public FakeRouterAdmin Admin => _app.Services.GetRequiredService<FakeRouterAdmin>();
    public HealthStatusTracker Health => _app.Services.GetRequiredService<HealthStatusTracker>();
    public int GrpcPort { get; }
    /// <summary>Every call the server finished, with its first request message's compressed flag and its response grpc-encoding.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<ObservedCall> Observed { get; }
    public int MixedPort { get; }

    public static async Task<GrpcTestServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        if (Environment.GetEnvironmentVariable("GRPC_TEST_LOG") == "1")
        {
            builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Debug);
        }
        ListenOptions? grpcListener = null;
        ListenOptions? mixedListener = null;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.ListenGrpc(IPAddress.Loopback, 0, listen => grpcListener = listen);
            kestrel.Listen(IPAddress.Loopback, 0, listen =>
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                mixedListener = listen;
            });
        });
        builder.Services.AddSingleton<FakeInferenceRouter>();
        builder.Services.AddSingleton<IInferenceRouter>(static p => p.GetRequiredService<FakeInferenceRouter>());
        builder.Services.AddSingleton<FakeRouterAdmin>();
        builder.Services.AddSingleton<IRouterAdmin>(static p => p.GetRequiredService<FakeRouterAdmin>());
        builder.Services.AddTestStreams();
        builder.Services.AddRouterGrpc(new GrpcServerOptions
        {
            MaxReceiveMessageSize = TestMaxMessageSize,
            MaxSendMessageSize = TestMaxMessageSize,
            SystemStatePollInterval = TimeSpan.FromMinutes(10),
        });

        var app = builder.Build();
        var registry = app.Services.GetRequiredService<GrpcServiceRegistry>();
        var observed = new System.Collections.Concurrent.ConcurrentQueue<ObservedCall>();
        app.Use(async (http, next) =>
        {
            // Test-only tap: the first message's compressed flag (peeked, not consumed) and the
            // response's grpc-encoding, to prove compression on the wire in both directions.
            byte? flag = null;
            if (http.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) == true)
            {
                var read = await http.Request.BodyReader.ReadAtLeastAsync(1, http.RequestAborted);
                if (!read.Buffer.IsEmpty)
                {
                    flag = read.Buffer.FirstSpan[0];
                }

                http.Request.BodyReader.AdvanceTo(read.Buffer.Start);
            }

            await next(http);
            observed.Enqueue(new ObservedCall(http.Request.Path, flag, http.Response.Headers["grpc-encoding"].ToString()));
        });
        app.MapGrpcRouter(registry);
        var health = app.Services.GetRequiredService<HealthStatusTracker>();
        health.UpdateFromBackends(app.Services.GetRequiredService<FakeRouterAdmin>().Backends);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await app.StartAsync(timeout.Token);
        // Kestrel writes the bound port back into each listener's endpoint.
        return new GrpcTestServer(app, grpcListener!.IPEndPoint!.Port, mixedListener!.IPEndPoint!.Port, observed);
    }

    public void SetHealth(string service, ServingStatus status) => Health.SetStatus(service, status);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _app.StopAsync(timeout.Token);
        }
        finally
        {
            await _app.DisposeAsync();
        }
    }
}

internal sealed record ObservedCall(string Path, byte? RequestFlag, string ResponseEncoding);
