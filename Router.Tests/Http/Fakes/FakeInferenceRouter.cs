using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Text;
using Router.Actors.Backends;
using Router.Actors.Inference;
using Router.Actors.Routing;

namespace Router.Tests.Http.Fakes;

/// <summary>
/// Stands in for the router until the real one is integrated. Routes by the hints like the real
/// one would, answers in the API's own format, and fails on purpose for some model names:
/// <list type="bullet">
/// <item><c>missing-model</c>: ModelNotAvailable (404) · <c>busy</c>: QueueFull (429, retry 2 s) ·
/// <c>hot</c>: TooHot (503, retry 30 s) · <c>nothing-healthy</c>: NoHealthyBackend (503, default retry) ·
/// <c>backend-rejects</c>: a backend 400 · <c>backend-down</c>: connection refused (502)</item>
/// <item><c>breaks-midway</c>: two tokens, then the stream fails · <c>gated</c>: each token waits for <see cref="Gate"/> ·
/// <c>slow</c>: a token every 20 ms, without end · <c>endless</c>: 1 KiB chunks without end ·
/// <c>flood</c>: 2000 chunks of 16 KiB · <c>router-bug</c>: the router throws</item>
/// </list>
/// An unknown X-Target-Backend is UnknownTarget (400) and a power budget under 3 W is PowerBudgetExceeded.
/// </summary>
internal sealed class FakeInferenceRouter : IInferenceRouter
{
    public static readonly ImmutableArray<(string Id, string Hardware, double Watts, double LatencyMs)> Backends =
    [
        ("ollama-npu", "npu", 3, 800),
        ("ollama-igpu", "igpu", 12, 380),
        ("ollama-nvidia", "nvidia", 55, 150),
        ("ollama-cpu", "cpu", 28, 1500),
    ];

    public static readonly IReadOnlyList<string> Tokens = ["Hello", ",", " world", "!"];
    public const int FloodChunks = 2000;
    public const int FloodChunkBytes = 16 * 1024;

    public ConcurrentQueue<InferenceRequest> Requests { get; } = new();
    public ConcurrentQueue<FakeStream> Streams { get; } = new();
    /// <summary>Released by a test once per token of the <c>gated</c> model.</summary>
    public SemaphoreSlim Gate { get; } = new(0);
    /// <summary>Completes with each stream as it is handed out, for tests that wait on the latest one.</summary>
    public TaskCompletionSource<FakeStream> FirstStream { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ValueTask<Result<IInferenceStream, InferenceError>> StreamAsync(InferenceRequest request, CancellationToken cancellationToken)
    {
        Requests.Enqueue(request);
        if (request.Model == "router-bug") throw new InvalidOperationException("a bug in the router");
        if (Fail(request) is { } error) return ValueTask.FromResult(Result<IInferenceStream, InferenceError>.Fail(error));
        var decision = Decide(request.Hints);
        var api = request.Native.Api;
        var model = request.Model;
        var stream = model switch
        {
            "breaks-midway" => new FakeStream(decision, 4, async (s, ct) =>
            {
                foreach (var token in Tokens.Take(2)) await s.WriteAsync(new StreamChunk(FakeAnswers.Chunk(api, model, token, token == Tokens[0]), token), ct);
                await s.WriteAsync(new StreamFailed(new BackendError(BackendErrorKind.StreamBroken, "ollama-igpu closed the connection mid-answer")), ct);
            }),
            "gated" => new FakeStream(decision, 4, async (s, ct) =>
            {
                for (var i = 0; i < Tokens.Count; i++)
                {
                    if (i > 0) await Gate.WaitAsync(ct);
                    await s.WriteAsync(new StreamChunk(FakeAnswers.Chunk(api, model, Tokens[i], i == 0), Tokens[i]), ct);
                }
                await s.WriteAsync(new StreamCompleted(new BackendUsage(FakeAnswers.PromptTokens, Tokens.Count)), ct);
            }),
            "slow" => new FakeStream(decision, 4, async (s, ct) =>
            {
                for (var i = 0; ; i++)
                {
                    await s.WriteAsync(new StreamChunk(FakeAnswers.Chunk(api, model, "tick", i == 0), "tick"), ct);
                    await Task.Delay(20, ct);
                }
            }),
            "endless" => new FakeStream(decision, 4, async (s, ct) =>
            {
                var text = new string('x', 1024);
                for (var i = 0; ; i++) await s.WriteAsync(new StreamChunk(FakeAnswers.Chunk(api, model, text, i == 0), text), ct);
            }),
            "flood" => new FakeStream(decision, 4, async (s, ct) =>
            {
                for (var i = 0; i < FloodChunks; i++)
                {
                    var text = i.ToString("D6", System.Globalization.CultureInfo.InvariantCulture) + new string('x', FloodChunkBytes);
                    await s.WriteAsync(new StreamChunk(FakeAnswers.Chunk(api, model, text, i == 0), text), ct);
                }
                await s.WriteAsync(new StreamCompleted(new BackendUsage(FakeAnswers.PromptTokens, FloodChunks)), ct);
            }),
            _ => new FakeStream(decision, 4, async (s, ct) =>
            {
                foreach (var chunk in FakeAnswers.Chunks(api, model, Tokens, IncludeUsage(request))) await s.WriteAsync(chunk, ct);
                await s.WriteAsync(new StreamCompleted(new BackendUsage(FakeAnswers.PromptTokens, Tokens.Count)), ct);
            }),
        };
        Streams.Enqueue(stream);
        FirstStream.TrySetResult(stream);
        return ValueTask.FromResult(Result<IInferenceStream, InferenceError>.Ok(stream));
    }

    public ValueTask<Result<InferenceResponse, InferenceError>> SendAsync(InferenceRequest request, CancellationToken cancellationToken)
    {
        Requests.Enqueue(request);
        if (request.Model == "router-bug") throw new InvalidOperationException("a bug in the router");
        if (Fail(request) is { } error) return ValueTask.FromResult(Result<InferenceResponse, InferenceError>.Fail(error));
        var body = FakeAnswers.Complete(request.Native.Api, request.Model, Tokens, request.Native.Body);
        var response = new InferenceResponse(Decide(request.Hints), new BackendResponse(200, body, new BackendUsage(FakeAnswers.PromptTokens, Tokens.Count)),
            new GenerationStats(40, 400, Tokens.Count, 10, 0.001));
        return ValueTask.FromResult(Result<InferenceResponse, InferenceError>.Ok(response));
    }

    public ValueTask<Result<RoutingDecision, RouteFailure>> ExplainAsync(string? model, RoutingHints hints, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Result<RoutingDecision, RouteFailure>.Ok(Decide(hints)));

    private static bool IncludeUsage(InferenceRequest request) =>
        request.Native.Api is BackendApi.OpenAIChatCompletions or BackendApi.OpenAICompletions && FakeAnswers.IncludeUsage(request.Native.Body);

    private static InferenceError? Fail(InferenceRequest request)
    {
        var hints = request.Hints;
        if (hints.Target is { } target && !Backends.Any(b => b.Id == target || b.Hardware == target))
        {
            return InferenceError.FromRoute(new RouteFailure(RouteFailureKind.UnknownTarget,
                $"Unknown target '{target}'. Known backends: {string.Join(", ", Backends.Select(b => b.Id))}; hardware kinds: npu, igpu, nvidia, cpu."));
        }
        if (hints.MaxPowerWatts < 3)
        {
            return InferenceError.FromRoute(new RouteFailure(RouteFailureKind.PowerBudgetExceeded,
                $"Every backend holding '{request.Model}' draws more than {hints.MaxPowerWatts} W; the most frugal needs 3 W."));
        }
        return request.Model switch
        {
            "missing-model" => InferenceError.FromRoute(new RouteFailure(RouteFailureKind.ModelNotAvailable,
                "No healthy backend holds the model 'missing-model'. Pull it on a backend (ollama pull missing-model) or pick another model.")),
            "busy" => InferenceError.FromRoute(new RouteFailure(RouteFailureKind.QueueFull,
                "The queue for priority normal is full on every backend holding 'busy'.", TimeSpan.FromSeconds(2))),
            "hot" => InferenceError.FromRoute(new RouteFailure(RouteFailureKind.TooHot,
                "Every device that holds 'hot' is above its temperature limit.", TimeSpan.FromSeconds(30))),
            "nothing-healthy" => InferenceError.FromRoute(new RouteFailure(RouteFailureKind.NoHealthyBackend, "No backend is healthy.")),
            "backend-rejects" => InferenceError.FromBackend(new BackendError(BackendErrorKind.HttpStatus, "HTTP 400 from ollama-igpu", 400,
                Encoding.UTF8.GetBytes("{\"error\":\"invalid 'options.num_ctx': must be a positive integer\"}"))),
            "backend-down" => InferenceError.FromBackend(new BackendError(BackendErrorKind.ConnectFailed, "ollama-igpu refused the connection (127.0.0.1:11435)")),
            _ => null,
        };
    }

    public static RoutingDecision Decide(RoutingHints hints)
    {
        string id;
        string reason;
        if (hints.Target is { } target)
        {
            id = Backends.First(b => b.Id == target || b.Hardware == target).Id;
            reason = RouteReasons.ExplicitTarget;
        }
        else if (hints.LatencyCritical)
        {
            id = "ollama-nvidia";
            reason = RouteReasons.LatencyCritical;
        }
        else if (hints.PreferPowerEfficiency)
        {
            id = "ollama-npu";
            reason = RouteReasons.PowerEfficient;
        }
        else
        {
            id = "ollama-igpu";
            reason = RouteReasons.ModeBalanced;
        }
        var chosen = Backends.First(b => b.Id == id);
        var alternatives = Backends.Where(b => b.Id != id).Select(b => b.Id).ToImmutableArray();
        return new RoutingDecision(id, reason, alternatives, new RouteEstimate(chosen.LatencyMs, chosen.Watts, chosen.Watts * 2 / 3600), EfficiencyMode.Balanced);
    }
}
