using Akka;
using Akka.Streams.Dsl;
using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Router.Actors.Backends;
using Router.Actors.Inference;
using Router.Actors.Routing;

namespace Router.Tests.Grpc;

/// <summary>
/// A router whose behaviour the request's model name chooses, so a client in another process can
/// drive every path. Records what the server did (requests, cancellations, disposals) for asserts.
/// </summary>
internal sealed class FakeInferenceRouter : IInferenceRouter
{
    public const string Hang = "hang";
    public const string Missing = "missing";
    public const string Busy = "busy";
    public const string UnknownTarget = "unknown-target";
    public const string NoBackend = "no-backend";
    public const string BrokenStream = "broken-stream";
    public const string Throws = "throws";
    public const string Unicode = "unicode";
    public const string UnicodeMessage = "Modell «llama» fehlt: 100% belegt\nbitte später";
    public const string BadRequest = "bad-request";
    public const string SecretDetail = "secret internal detail 42";

    public static readonly ImmutableArray<string> StreamTokens = ["Hel", "lo", ", ", "world"];
    public static readonly GenerationStats Stats = new(12.4, 40.6, 4, 98.5, 0.0021);

    public static readonly RoutingDecision Decision = new(
        "ollama-npu", RouteReasons.PowerEfficient, ["ollama-igpu", "ollama-cpu"], new RouteEstimate(812.6, 3, 0.0007), EfficiencyMode.Balanced);

    public ConcurrentQueue<InferenceRequest> Requests { get; } = new();
    /// <summary>Completes when a hanging call saw its cancellation token fire.</summary>
    public TaskCompletionSource CallCancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    /// <summary>Completes when a stream was disposed before its end (the backend call cancelled, the slot freed).</summary>
    public TaskCompletionSource StreamAbandoned { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async ValueTask<Result<IInferenceStream, InferenceError>> StreamAsync(InferenceRequest request, CancellationToken cancellationToken)
    {
        Requests.Enqueue(request);
        if (Fail(request.Model) is { } failure)
        {
            return failure;
        }

        var channel = Channel.CreateUnbounded<StreamEvent>();
        var stream = new FakeStream(this, channel.Reader);
        switch (request.Model)
        {
            case Hang:
                channel.Writer.TryWrite(Chunk("first"));
                break;
            case BrokenStream:
                channel.Writer.TryWrite(Chunk("partial"));
                channel.Writer.TryWrite(new StreamFailed(new BackendError(BackendErrorKind.StreamBroken, "connection reset by ollama-npu")));
                channel.Writer.TryComplete();
                break;
            default:
                foreach (var token in StreamTokens)
                {
                    channel.Writer.TryWrite(Chunk(token));
                }

                channel.Writer.TryWrite(new StreamCompleted(new BackendUsage(3, StreamTokens.Length)));
                channel.Writer.TryComplete();
                break;
        }

        await Task.Yield();
        return Result<IInferenceStream, InferenceError>.Ok(stream);
    }

    public async ValueTask<Result<InferenceResponse, InferenceError>> SendAsync(InferenceRequest request, CancellationToken cancellationToken)
    {
        Requests.Enqueue(request);
        if (Fail(request.Model) is { } failure)
        {
            return failure;
        }

        if (request.Model == Hang)
        {
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                CallCancelled.TrySetResult();
                throw;
            }
        }

        var body = request.Native.Api switch
        {
            BackendApi.OllamaChat => Json(new { model = request.Model, message = new { role = "assistant", content = "chat: " + LastMessage(request.Native.Body) }, done = true }),
            BackendApi.OllamaEmbed => Json(new { model = request.Model, embeddings = new[] { new[] { 0.25f, -0.5f, 1f } } }),
            _ => Json(new { model = request.Model, response = "echo: " + Field(request.Native.Body, "prompt"), done = true }),
        };
        return Result<InferenceResponse, InferenceError>.Ok(new InferenceResponse(Decision, new BackendResponse(200, body, new BackendUsage(3, 4)), Stats));
    }

    public ValueTask<Result<RoutingDecision, RouteFailure>> ExplainAsync(string? model, RoutingHints hints, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Result<RoutingDecision, RouteFailure>.Ok(Decision));

    private static InferenceError? Fail(string model) => model switch
    {
        Missing => InferenceError.FromRoute(new RouteFailure(RouteFailureKind.ModelNotAvailable, "No healthy backend holds model 'missing'.")),
        Busy => InferenceError.FromRoute(new RouteFailure(RouteFailureKind.QueueFull, "The queue is full at priority normal.", TimeSpan.FromSeconds(2))),
        UnknownTarget => InferenceError.FromRoute(new RouteFailure(RouteFailureKind.UnknownTarget, "No backend or hardware named 'tpu'.")),
        NoBackend => InferenceError.FromRoute(new RouteFailure(RouteFailureKind.PowerBudgetExceeded, "All candidates exceed the power budget of 5 W.")),
        BadRequest => InferenceError.FromBackend(new BackendError(BackendErrorKind.HttpStatus, "invalid option", 400)),
        Unicode => InferenceError.FromRoute(new RouteFailure(RouteFailureKind.ModelNotAvailable, UnicodeMessage)),
        Throws => throw new InvalidOperationException(SecretDetail),
        _ => null,
    };

    private static StreamChunk Chunk(string text) => new(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { response = text })), text);

    private static byte[] Json<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value);

    private static string Field(ReadOnlyMemory<byte> body, string name)
    {
        using var document = JsonDocument.Parse(body);
        return document.RootElement.GetProperty(name).GetString() ?? "";
    }

    private static string LastMessage(ReadOnlyMemory<byte> body)
    {
        using var document = JsonDocument.Parse(body);
        var messages = document.RootElement.GetProperty("messages");
        return messages[messages.GetArrayLength() - 1].GetProperty("content").GetString() ?? "";
    }

    private sealed class FakeStream(FakeInferenceRouter owner, ChannelReader<StreamEvent> events) : IInferenceStream
    {
        public RoutingDecision Decision => FakeInferenceRouter.Decision;
        public Source<StreamEvent, NotUsed> Events => ChannelSource.FromReader(events);
        public GenerationStats? Stats => events.Completion.IsCompleted && events.Count == 0 ? FakeInferenceRouter.Stats : null;

        public ValueTask DisposeAsync()
        {
            if (!events.Completion.IsCompleted)
            {
                owner.StreamAbandoned.TrySetResult();
            }

            return ValueTask.CompletedTask;
        }
    }
}

internal sealed class FakeRouterAdmin : IRouterAdmin
{
    private readonly Lock _lock = new();
    private SystemState _state = SystemState.Default with { BatteryPercent = 81, MaxTemperatureC = 54 };

    public ImmutableArray<BackendSnapshot> Backends { get; set; } =
    [
        new BackendSnapshot
        {
            Id = "ollama-npu", Name = "NPU", Hardware = "npu", Health = BackendHealth.Healthy, PowerWatts = 3, AvgLatencyMs = 800,
            Models = ImmutableHashSet.Create("llama3.2:1b", "qwen2.5:0.5b"), ModelsKnown = true,
            LastCheck = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000),
        },
        new BackendSnapshot
        {
            Id = "openai-gpu", Name = "vLLM", Type = "openai", Hardware = "nvidia", Health = BackendHealth.Degraded, PowerWatts = 55, AvgLatencyMs = 150,
            StatusMessage = "slow answers", ErrorRate = 0.25,
            MetricsByModel = ImmutableDictionary<string, ModelMetrics>.Empty.Add("llama3.1:8b", new ModelMetrics(140, 80, 12)),
        },
    ];

    public ValueTask<ImmutableArray<BackendSnapshot>> GetBackendsAsync(CancellationToken cancellationToken) => ValueTask.FromResult(Backends);

    public ValueTask<SystemState> GetSystemStateAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return ValueTask.FromResult(_state);
        }
    }

    public ValueTask<SystemState> SetModeAsync(EfficiencyMode mode, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _state = _state with
            {
                Mode = mode,
                EffectiveMode = mode == EfficiencyMode.Auto ? EfficiencyMode.Efficiency : mode,
                ModeReason = mode == EfficiencyMode.Auto ? "on-battery" : "user-selected",
            };
            return ValueTask.FromResult(_state);
        }
    }

    public IBackendClient? GetClient(string backendId) => null;

    public Router.Actors.Inspection.ActorTreeSnapshot? InspectActors(string path) => null;
}
