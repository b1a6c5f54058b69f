using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Threading.Channels;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Router.Actors.Backends;
using Router.Actors.Config;
using Router.Actors.Inference;
using Router.Actors.Routing;
using Router.Gateway.Grpc;
using Router.Gateway.Hosting;
using Router.Gateway.Simulation;
using GenerateRequest = Router.Gateway.Grpc.Contracts.Compute.GenerateRequest;
using ProtoOptions = Router.Gateway.Grpc.Contracts.Compute.GenerationOptions;

namespace Router.Benchmarks.Grpc;

/// <summary>
/// scripts/bench-grpc. Part 1: the gRPC surface alone (Grpc.AspNetCore, HTTP/2, protobuf, the body
/// builders, a write per token) over a router stub that answers at once. Part 2: the daemon as it
/// runs (RouterHost: selector, backend actor, pooled backend client, telemetry, gRPC) in front of
/// one simulated device with no think time, side by side with that simulator called directly.
/// Sequential calls on one HTTP/2 connection, with a bare HTTP/2 client that frames messages
/// itself, so the figures are the server's and not a client library's.
/// </summary>
internal static class GrpcBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var unaryCalls = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 2000;
        var streams = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 500;
        var tokens = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 32;
        var e2e = args.Length > 3 ? Path.Combine(args[3], "Router.Tests", "e2e") : null;

        Console.WriteLine($"gRPC: {unaryCalls} unary calls, {streams} streams of {tokens} tokens, sequential, one HTTP/2 connection");
        await SurfaceAloneAsync(unaryCalls, streams, tokens, e2e);
        Console.WriteLine();
        await ThroughTheDaemonAsync(unaryCalls, streams, tokens);
        return 0;
    }

    private static async Task SurfaceAloneAsync(int unaryCalls, int streams, int tokens, string? e2e)
    {
        var stub = new StubRouter(tokens);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        ListenOptions? listener = null;
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o =>
        {
            o.Protocols = HttpProtocols.Http2;
            listener = o;
        }));
        builder.Services.AddSingleton<IInferenceRouter>(stub);
        builder.Services.AddSingleton<IRouterAdmin>(new StubAdmin());
        // The daemon's materializer runs its token streams; here one of a bench actor system does.
        builder.Services.AddSingleton(_ => Akka.Actor.ActorSystem.Create("bench-grpc", Router.Actors.Config.ActorSystemConfig.Defaults));
        builder.Services.AddSingleton<Akka.Streams.IMaterializer>(services => Akka.Streams.ActorMaterializer.Create(services.GetRequiredService<Akka.Actor.ActorSystem>()));
        builder.Services.AddRouterGrpc(new GrpcServerOptions());
        await using var app = builder.Build();
        app.MapRouterGrpc();
        await app.StartAsync();
        using var grpc = new BareGrpcClient(listener!.IPEndPoint!.Port, new GenerateRequest { Model = "sim", Prompt = "hi" });

        var request = new InferenceRequest("sim", RoutingHints.Default, new BackendRequest(BackendApi.OllamaGenerate, Encoding.UTF8.GetBytes("""{"model":"sim","prompt":"hi"}"""), false));
        var directUnary = await MeasureAsync(unaryCalls, async () =>
        {
            var answer = await stub.SendAsync(request, default);
            using var document = System.Text.Json.JsonDocument.Parse(answer.Value.Response.Body);
            _ = document.RootElement.GetProperty("response").GetString();
        });
        var grpcUnary = await MeasureAsync(unaryCalls, () => grpc.CallAsync("Generate"));
        var directStream = await MeasureAsync(streams, async () =>
        {
            var stream = (await stub.StreamAsync(request, default)).Value;
            await using (stream)
            {
                // Through the same materializer the surface uses: the difference is the surface itself.
                await stream.Events.RunWith(Akka.Streams.Dsl.Sink.Ignore<StreamEvent>(), app.Services.GetRequiredService<Akka.Streams.IMaterializer>());
            }
        });
        var grpcStream = await MeasureAsync(streams, () => grpc.CallAsync("GenerateStream"));

        Console.WriteLine("Part 1: the gRPC surface alone, over a router stub that answers at once");
        Print("unary   router stub called directly", directUnary);
        Print("unary   gRPC Generate over the stub", grpcUnary);
        Print("stream  router stub called directly", directStream);
        Print("stream  gRPC GenerateStream over the stub", grpcStream);
        Console.WriteLine($"surface adds {grpcUnary.P50 - directUnary.P50:F1} µs per unary call and "
            + $"{((grpcStream.P50 - directStream.P50) - (grpcUnary.P50 - directUnary.P50)) / tokens:F2} µs per streamed token (p50)");

        if (e2e is not null && Directory.Exists(Path.Combine(e2e, "node_modules", "@grpc", "grpc-js")))
        {
            using var node = Process.Start(new ProcessStartInfo("node")
            {
                ArgumentList =
                {
                    Path.Combine(e2e, "grpc-bench.mjs"), listener.IPEndPoint.Port.ToString(CultureInfo.InvariantCulture),
                    unaryCalls.ToString(CultureInfo.InvariantCulture), streams.ToString(CultureInfo.InvariantCulture),
                },
            })!;
            await node.WaitForExitAsync();
        }
        else
        {
            Console.WriteLine("(grpc-js figures skipped: run npm install in Router.Tests/e2e)");
        }

        await app.StopAsync();
    }

    private static async Task ThroughTheDaemonAsync(int unaryCalls, int streams, int tokens)
    {
        await using var simulator = await SimulatedBackend.StartAsync(DeviceProfile.Nvidia, new SimulatorOptions { TimeScale = 0 });
        var config = new RouterConfig
        {
            Backends = [new BackendConfig { Id = "sim-nvidia", Hardware = "nvidia", Endpoint = simulator.Endpoint, PowerWatts = 55, AvgLatencyMs = 150, MaxConcurrent = 4 }],
        };
        await using var host = await RouterHost.StartAsync(config, new RouterHostOptions { HttpPort = 0, GrpcPort = 0, ConsoleLogging = false });
        var ready = Stopwatch.StartNew();
        while ((await host.Runtime.GetBackendsAsync(default)) is not [{ Health: BackendHealth.Healthy, ModelsKnown: true }])
        {
            if (ready.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new TimeoutException("the simulated device never became healthy");
            }

            await Task.Delay(50);
        }

        using var grpc = new BareGrpcClient(host.GrpcEndpoint.Port,
            new GenerateRequest { Model = "llama3.2:1b", Prompt = "hi", Options = new ProtoOptions { MaxTokens = tokens } });
        using var plain = new HttpClient();
        async Task SimulatorDirectAsync(bool stream)
        {
            var json = $$$"""{"model":"llama3.2:1b","prompt":"hi","stream":{{{(stream ? "true" : "false")}}},"options":{"num_predict":{{{tokens}}}}}""";
            using var response = await plain.PostAsync(new Uri(simulator.Endpoint, "api/generate"), new StringContent(json, Encoding.UTF8, "application/json"));
            response.EnsureSuccessStatusCode();
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            while (await reader.ReadLineAsync() is not null)
            {
            }
        }

        var simUnary = await MeasureAsync(unaryCalls / 2, () => SimulatorDirectAsync(false));
        var routerUnary = await MeasureAsync(unaryCalls / 2, () => grpc.CallAsync("Generate"));
        var simStream = await MeasureAsync(streams, () => SimulatorDirectAsync(true));
        var routerStream = await MeasureAsync(streams, () => grpc.CallAsync("GenerateStream"));

        Console.WriteLine($"Part 2: the daemon (RouterHost) in front of one simulated device with no think time, {tokens} tokens per answer");
        Print("unary   simulator directly (HTTP/1.1 JSON)", simUnary);
        Print("unary   gRPC Generate via the daemon", routerUnary);
        Print("stream  simulator directly (NDJSON)", simStream);
        Print("stream  gRPC GenerateStream via the daemon", routerStream);
        var perCall = routerUnary.P50 - simUnary.P50;
        var perStream = routerStream.P50 - simStream.P50;
        // What a stream adds beyond what any call adds, spread over its tokens.
        Console.WriteLine($"added by router + gRPC (p50): {perCall:F1} µs per unary call, {perStream:F1} µs per stream, {(perStream - perCall) / tokens:F2} µs per streamed token");
    }

    private static async Task<(double Mean, double P50, double P99)> MeasureAsync(int n, Func<Task> operation)
    {
        for (var i = 0; i < Math.Min(200, n); i++)
        {
            await operation();
        }

        var samples = new double[n];
        for (var i = 0; i < n; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await operation();
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }

        Array.Sort(samples);
        return (samples.Average(), samples[n / 2], samples[(int)(n * 0.99)]);
    }

    private static void Print(string name, (double Mean, double P50, double P99) r) =>
        Console.WriteLine($"{name,-46} mean {r.Mean,9:F1} µs   p50 {r.P50,9:F1} µs   p99 {r.P99,9:F1} µs");

    /// <summary>One HTTP/2 connection; a call is a POST of one length-prefixed message, read to its trailers.</summary>
    private sealed class BareGrpcClient : IDisposable
    {
        private readonly HttpClient _http = new(new SocketsHttpHandler { EnableMultipleHttp2Connections = false });

        private readonly int _port;
        private readonly byte[] _framed;

        public BareGrpcClient(int port, IMessage request)
        {
            _port = port;
            var message = request.ToByteArray();
            _framed = new byte[5 + message.Length];
            BinaryPrimitives.WriteUInt32BigEndian(_framed.AsSpan(1), (uint)message.Length);
            message.CopyTo(_framed, 5);
        }

        public async Task CallAsync(string method)
        {
            using var message = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{_port}/compute.v1.ComputeService/{method}")
            {
                // h2c with prior knowledge: a request message is HTTP/1.1 unless it says otherwise.
                Version = HttpVersion.Version20,
                VersionPolicy = HttpVersionPolicy.RequestVersionExact,
                Content = new ByteArrayContent(_framed),
            };
            message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
            message.Headers.TryAddWithoutValidation("te", "trailers");
            using var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead);
            await using var body = await response.Content.ReadAsStreamAsync();
            var header = new byte[5];
            while (await body.ReadAtLeastAsync(header, 5, throwOnEndOfStream: false) == 5)
            {
                var payload = new byte[BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1))];
                await body.ReadExactlyAsync(payload);
            }

            if (!response.TrailingHeaders.TryGetValues("grpc-status", out var status) || status.First() != "0")
            {
                throw new InvalidOperationException($"{method} failed: {string.Join(",", response.TrailingHeaders.Select(h => $"{h.Key}={string.Join(",", h.Value)}"))}");
            }
        }

        public void Dispose() => _http.Dispose();
    }

    private sealed class StubRouter(int tokens) : IInferenceRouter
    {
        private static readonly RoutingDecision Decision = new("sim-npu", RouteReasons.OnlyCandidate, [], new RouteEstimate(1, 3, 0), EfficiencyMode.Balanced);
        private static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"model":"sim","response":"Hello, world","done":true}""");

        public ValueTask<Result<InferenceResponse, InferenceError>> SendAsync(InferenceRequest request, CancellationToken cancellationToken) =>
            ValueTask.FromResult(Result<InferenceResponse, InferenceError>.Ok(new InferenceResponse(Decision, new BackendResponse(200, Body, BackendUsage.None), GenerationStats.Empty)));

        public ValueTask<Result<IInferenceStream, InferenceError>> StreamAsync(InferenceRequest request, CancellationToken cancellationToken)
        {
            var channel = Channel.CreateBounded<StreamEvent>(tokens + 1);
            for (var i = 0; i < tokens; i++)
            {
                channel.Writer.TryWrite(new StreamChunk(ReadOnlyMemory<byte>.Empty, "tok "));
            }

            channel.Writer.TryWrite(new StreamCompleted(BackendUsage.None));
            channel.Writer.TryComplete();
            return ValueTask.FromResult(Result<IInferenceStream, InferenceError>.Ok(new StubStream(channel.Reader)));
        }

        public ValueTask<Result<RoutingDecision, RouteFailure>> ExplainAsync(string? model, RoutingHints hints, CancellationToken cancellationToken) =>
            ValueTask.FromResult(Result<RoutingDecision, RouteFailure>.Ok(Decision));

        private sealed class StubStream(ChannelReader<StreamEvent> events) : IInferenceStream
        {
            public RoutingDecision Decision => StubRouter.Decision;
            public Akka.Streams.Dsl.Source<StreamEvent, Akka.NotUsed> Events => Akka.Streams.Dsl.ChannelSource.FromReader(events);
            public GenerationStats? Stats => GenerationStats.Empty;
            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }

    private sealed class StubAdmin : IRouterAdmin
    {
        public ValueTask<ImmutableArray<BackendSnapshot>> GetBackendsAsync(CancellationToken cancellationToken) => ValueTask.FromResult(ImmutableArray<BackendSnapshot>.Empty);
        public ValueTask<SystemState> GetSystemStateAsync(CancellationToken cancellationToken) => ValueTask.FromResult(SystemState.Default);
        public ValueTask<SystemState> SetModeAsync(EfficiencyMode mode, CancellationToken cancellationToken) => ValueTask.FromResult(SystemState.Default);
        public IBackendClient? GetClient(string backendId) => null;
        public Router.Actors.Inspection.ActorTreeSnapshot? InspectActors(string path) => null;
    }
}
