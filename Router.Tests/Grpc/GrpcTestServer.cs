using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Grpc.HealthCheck;
using Router.Actors.Inference;
using Router.Gateway.Grpc;
using Router.Gateway.Grpc.Health;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

using Router.Tests.TestKit;

namespace Router.Tests.Grpc;

/// <summary>
/// The gRPC surface as the host wires it (GrpcSurface, an HTTP/2-only h2c listener on 127.0.0.1,
/// port 0) over a fake router whose behaviour the model name chooses.
/// </summary>
internal sealed class GrpcTestServer : IAsyncDisposable
{
    public const int TestMaxMessageSize = 64 * 1024;

    private readonly WebApplication _app;
    private int _disposed;

    private GrpcTestServer(WebApplication app, int grpcPort, System.Collections.Concurrent.ConcurrentQueue<ObservedCall> observed)
    {
        _app = app;
        Observed = observed;
        GrpcPort = grpcPort;
    }

    public FakeInferenceRouter Router => _app.Services.GetRequiredService<FakeInferenceRouter>();
    public FakeRouterAdmin Admin => _app.Services.GetRequiredService<FakeRouterAdmin>();
    public HealthServiceImpl Health => _app.Services.GetRequiredService<HealthServiceImpl>();
    public GrpcHealthStatus HealthStatus => _app.Services.GetRequiredService<GrpcHealthStatus>();
    public IHostApplicationLifetime Lifetime => _app.Services.GetRequiredService<IHostApplicationLifetime>();
    public int GrpcPort { get; }
    /// <summary>Every call the server finished, with its first request message's compressed flag and its response grpc-encoding.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<ObservedCall> Observed { get; }
    public Uri Address => new($"http://127.0.0.1:{GrpcPort}");

    public static async Task<GrpcTestServer> StartAsync(GrpcServerOptions? options = null)
    {
        options ??= new GrpcServerOptions
        {
            MaxReceiveMessageSize = TestMaxMessageSize,
            MaxSendMessageSize = TestMaxMessageSize,
            SystemStatePollInterval = TimeSpan.FromMinutes(10),
        };
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        if (Environment.GetEnvironmentVariable("GRPC_TEST_LOG") == "1")
        {
            builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Debug);
        }
        ListenOptions? grpcListener = null;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            options.ApplyTo(kestrel);
            kestrel.Listen(IPAddress.Loopback, 0, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                grpcListener = listen;
            });
        });
        builder.Services.AddSingleton<FakeInferenceRouter>();
        builder.Services.AddSingleton<IInferenceRouter>(static p => p.GetRequiredService<FakeInferenceRouter>());
        builder.Services.AddSingleton<FakeRouterAdmin>();
        builder.Services.AddSingleton<IRouterAdmin>(static p => p.GetRequiredService<FakeRouterAdmin>());
        builder.Services.AddTestStreams();
        builder.Services.AddRouterGrpc(options);

        var app = builder.Build();
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
        app.MapRouterGrpc();
        app.Services.GetRequiredService<GrpcHealthStatus>().UpdateFromBackends(app.Services.GetRequiredService<FakeRouterAdmin>().Backends);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await app.StartAsync(timeout.Token);
        // Kestrel writes the bound port back into each listener's endpoint.
        return new GrpcTestServer(app, grpcListener!.IPEndPoint!.Port, observed);
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
