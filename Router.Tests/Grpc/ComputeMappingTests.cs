using System.Collections.Immutable;
using System.Text;
using Grpc.Core;
using Router.Actors.Backends;
using Router.Actors.Routing;
using Router.Gateway.Grpc;
using Router.Gateway.Grpc.Contracts.Compute;
using ChatMessage = Router.Gateway.Grpc.Contracts.Compute.ChatMessage;
using GenerationOptions = Router.Gateway.Grpc.Contracts.Compute.GenerationOptions;
using Router.Gateway.Grpc.Services;

namespace Router.Tests.Grpc;

/// <summary>The pure mappings of the routing services: annotations, statuses, backend bodies.</summary>
public sealed class ComputeMappingTests
{
    [Fact]
    public void MapAnnotations_Null_DefaultHints()
    {
        Assert.Null(AnnotationMapper.TryMap(null, out var hints));
        Assert.Equal(RoutingHints.Default, hints);
    }

    [Fact]
    public void MapAnnotations_AllFields_SameHintsAsHttp()
    {
        var annotations = new JobAnnotations
        {
            Target = "igpu", LatencyCritical = true, PreferPowerEfficiency = true, CacheEnabled = true,
            MaxLatencyMs = 500, MaxPowerWatts = 20, Priority = 3,
            Custom = { ["media_type"] = "realtime", ["request_id"] = "abc", ["other"] = "x" },
        };

        Assert.Null(AnnotationMapper.TryMap(annotations, out var hints));
        Assert.Equal(new RoutingHints
        {
            Target = "igpu", LatencyCritical = true, PreferPowerEfficiency = true, MaxLatencyMs = 500, MaxPowerWatts = 20,
            Priority = Priority.Critical, MediaType = "realtime", RequestId = "abc",
        }, hints);
    }

    [Theory]
    [InlineData(null, Priority.Normal)]
    [InlineData(0, Priority.BestEffort)]
    [InlineData(1, Priority.Normal)]
    [InlineData(2, Priority.High)]
    [InlineData(3, Priority.Critical)]
    public void MapAnnotations_Priority_Level(int? priority, Priority expected)
    {
        var annotations = new JobAnnotations();
        if (priority is { } p)
        {
            annotations.Priority = p;
        }

        Assert.Null(AnnotationMapper.TryMap(annotations, out var hints));
        Assert.Equal(expected, hints.Priority);
    }

    [Theory]
    [InlineData(-1, 0, 1, "annotations.max_latency_ms")]
    [InlineData(0, -3, 1, "annotations.max_power_watts")]
    [InlineData(0, 0, 4, "annotations.priority")]
    [InlineData(0, 0, -1, "annotations.priority")]
    public void MapAnnotations_Invalid_MessageNamesField(int maxLatency, int maxPower, int priority, string field)
    {
        var annotations = new JobAnnotations { MaxLatencyMs = maxLatency, MaxPowerWatts = maxPower, Priority = priority };

        Assert.StartsWith(field, AnnotationMapper.TryMap(annotations, out _), StringComparison.Ordinal);
        Assert.Equal(StatusCode.InvalidArgument, Assert.Throws<RpcException>(() => AnnotationMapper.Map(annotations)).StatusCode);
    }

    [Theory]
    [InlineData(float.NaN, 0.9f, "options.temperature")]
    [InlineData(float.PositiveInfinity, 0.9f, "options.temperature")]
    [InlineData(0.7f, float.NaN, "options.top_p")]
    [InlineData(0.7f, float.NegativeInfinity, "options.top_p")]
    public void Generation_NotAFiniteNumber_InvalidArgumentNamingTheOption(float temperature, float topP, string field)
    {
        var options = new GenerationOptions { Temperature = temperature, TopP = topP };

        var error = Assert.Throws<RpcException>(() => GenerationInputMapper.Generation("m", "p", null, options, RoutingHints.Default, stream: false));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.StartsWith(field + " must be a finite number", error.Status.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(RouteFailureKind.UnknownTarget, StatusCode.InvalidArgument)]
    [InlineData(RouteFailureKind.ModelNotAvailable, StatusCode.NotFound)]
    [InlineData(RouteFailureKind.QueueFull, StatusCode.ResourceExhausted)]
    [InlineData(RouteFailureKind.NoHealthyBackend, StatusCode.Unavailable)]
    [InlineData(RouteFailureKind.PowerBudgetExceeded, StatusCode.Unavailable)]
    [InlineData(RouteFailureKind.LatencyBudgetExceeded, StatusCode.Unavailable)]
    [InlineData(RouteFailureKind.ExcludedByMode, StatusCode.Unavailable)]
    [InlineData(RouteFailureKind.TooHot, StatusCode.Unavailable)]
    public void ToStatus_RouteFailure_Code(RouteFailureKind kind, StatusCode code)
    {
        var status = GrpcErrors.From(new RouteFailure(kind, "why it failed"));
        Assert.Equal(code, status.StatusCode);
        Assert.Equal("why it failed", status.Status.Detail);
    }

    [Fact]
    public void ToStatus_RetryAfter_InMessageAndPushbackTrailer()
    {
        var status = GrpcErrors.From(new RouteFailure(RouteFailureKind.QueueFull, "full", TimeSpan.FromSeconds(2.2)));

        Assert.Equal("full (retry after 3 s)", status.Status.Detail);
        // gRPC's retry pushback: a client retry policy waits this long before its next attempt.
        Assert.Equal("2200", status.Trailers.GetValue("grpc-retry-pushback-ms"));
    }

    [Theory]
    [InlineData(BackendErrorKind.HttpStatus, 400, StatusCode.InvalidArgument)]
    [InlineData(BackendErrorKind.HttpStatus, 404, StatusCode.InvalidArgument)]
    [InlineData(BackendErrorKind.HttpStatus, 503, StatusCode.Unavailable)]
    [InlineData(BackendErrorKind.ConnectFailed, null, StatusCode.Unavailable)]
    [InlineData(BackendErrorKind.Timeout, null, StatusCode.Unavailable)]
    [InlineData(BackendErrorKind.StreamBroken, null, StatusCode.Unavailable)]
    public void ToStatus_BackendError_Code(BackendErrorKind kind, int? httpStatus, StatusCode code)
    {
        var status = GrpcErrors.From(Router.Actors.Inference.InferenceError.FromBackend(new BackendError(kind, "detail", httpStatus)));
        Assert.Equal(code, status.StatusCode);
        Assert.Contains("detail", status.Status.Detail, StringComparison.Ordinal);
    }

    private static readonly ChatMessage[] Chat = [new() { Role = "user", Content = "hi" }];

    public static TheoryData<string, string> Bodies => new()
    {
        {
            Json(Generate(null, stream: false).Native),
            """{"model":"m","prompt":"p","stream":false}"""
        },
        {
            Json(Generate(new GenerationOptions { MaxTokens = 8, Temperature = 0.9f, TopP = 0.25f, TopK = 4, Stop = { "x" }, ContextLength = 4096 }, stream: true).Native),
            """{"model":"m","prompt":"p","stream":true,"options":{"num_predict":8,"temperature":0.9,"top_p":0.25,"top_k":4,"stop":["x"],"num_ctx":4096}}"""
        },
        {
            Json(Generate(new GenerationOptions { MaxTokens = 8, ContextLength = 4096 }, stream: false).OpenAI!),
            """{"model":"m","prompt":"p","stream":false,"max_tokens":8}"""
        },
        {
            Json(GenerationInputMapper.Generation("m", null, [.. Chat], new GenerationOptions(), RoutingHints.Default, stream: true).Native),
            """{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true}"""
        },
        {
            Json(GenerationInputMapper.Generation("m", null, [.. Chat], new GenerationOptions { Temperature = 1 }, RoutingHints.Default, stream: true).OpenAI!),
            """{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true},"temperature":1}"""
        },
        {
            // Greedy decoding, set on purpose: it must reach the backend, not fall back to its default.
            Json(Generate(new GenerationOptions { Temperature = 0 }, stream: false).Native),
            """{"model":"m","prompt":"p","stream":false,"options":{"temperature":0}}"""
        },
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public void MapGeneration_Options_SharedBuilderJson(string actual, string expected) => Assert.Equal(expected, actual);

    [Fact]
    public void MapGeneration_PromptOrMessages_Apis()
    {
        var generate = Generate(new GenerationOptions { MaxTokens = 16 }, stream: true);
        Assert.Equal(BackendApi.OllamaGenerate, generate.Native.Api);
        Assert.Equal(BackendApi.OpenAICompletions, generate.OpenAI!.Api);
        Assert.True(generate.Native.Stream);
        Assert.Equal(16, generate.ExpectedTokens);

        var chat = GenerationInputMapper.Generation("m", null, [.. Chat], null, RoutingHints.Default, stream: false);
        Assert.Equal(BackendApi.OllamaChat, chat.Native.Api);
        Assert.Equal(BackendApi.OpenAIChatCompletions, chat.OpenAI!.Api);
        Assert.Null(chat.ExpectedTokens);

        var embed = GenerationInputMapper.Embedding("e", "text", RoutingHints.Default);
        Assert.Equal(BackendApi.OllamaEmbed, embed.Native.Api);
        Assert.Equal(BackendApi.OpenAIEmbeddings, embed.OpenAI!.Api);
        Assert.True(embed.IsEmbedding);
    }

    private static Router.Actors.Inference.InferenceRequest Generate(GenerationOptions? options, bool stream) =>
        GenerationInputMapper.Generation("m", "p", null, options, RoutingHints.Default, stream);

    [Theory]
    [InlineData("""{"response":"native","done":true}""", "native")]
    [InlineData("""{"message":{"role":"assistant","content":"chat"}}""", "chat")]
    [InlineData("""{"choices":[{"text":"completion"}]}""", "completion")]
    [InlineData("""{"choices":[{"message":{"role":"assistant","content":"openai chat"}}]}""", "openai chat")]
    public void ReadText_BackendBody_Answer(string body, string text) =>
        Assert.Equal(text, AnswerReader.ReadText(Encoding.UTF8.GetBytes(body)));

    [Theory]
    [InlineData("""{"embeddings":[[1,2.5]]}""")]
    [InlineData("""{"embedding":[1,2.5]}""")]
    [InlineData("""{"data":[{"embedding":[1,2.5]}]}""")]
    public void ReadEmbedding_BackendBody_Vector(string body) =>
        Assert.Equal([1f, 2.5f], AnswerReader.ReadEmbedding(Encoding.UTF8.GetBytes(body)));

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"unexpected":1}""")]
    public void ReadText_Unusable_Unavailable(string body) =>
        Assert.Equal(StatusCode.Unavailable, Assert.Throws<RpcException>(() => AnswerReader.ReadText(Encoding.UTF8.GetBytes(body))).StatusCode);

    [Fact]
    public void ToBackendInfo_Snapshot_AllFields()
    {
        var info = ComputeGrpcService.ToBackendInfo(new BackendSnapshot
        {
            Id = "b", Name = "B", Type = "openai", Hardware = "nvidia", Health = BackendHealth.Ejected, StatusMessage = "3 failures",
            LastCheck = DateTimeOffset.FromUnixTimeSeconds(42), PowerWatts = 55.5, AvgLatencyMs = 150, ErrorRate = 0.5,
            Models = ImmutableHashSet.Create("z", "a"),
        });

        Assert.Equal("ejected", info.Status.State);
        Assert.Equal("3 failures", info.Status.Message);
        Assert.Equal(42, info.Status.LastCheckUnix);
        Assert.Equal(["a", "z"], info.Capabilities.Models);
        Assert.Equal(150, info.Metrics.AvgLatencyMs);
        Assert.Equal(55.5f, info.Metrics.PowerWatts);
        Assert.Equal("", info.Node);
    }

    [Fact]
    public void ToBackendInfo_FleetNodesBackend_CarriesItsNodeAndRoundTrip()
    {
        var info = ComputeGrpcService.ToBackendInfo(new BackendSnapshot { Id = "desktop/ollama-nvidia", Node = "desktop", NetworkRoundTripMs = 0.4 });

        Assert.Equal("desktop/ollama-nvidia", info.Id);
        Assert.Equal("desktop", info.Node);
        Assert.Equal(0.4, info.NetworkRoundTripMs);
    }

    private static string Json(BackendRequest request) => Encoding.UTF8.GetString(request.Body.Span);
}
