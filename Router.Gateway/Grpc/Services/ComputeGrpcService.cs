using Grpc.Core;
using Router.Actors.Backends;
using Router.Actors.Inference;
using Router.Actors.Routing;
using Router.Gateway.Grpc.Contracts.Compute;
using Router.Telemetry.Metrics;
using ProtoStats = Router.Gateway.Grpc.Contracts.Compute.GenerationStats;
using RouterStats = Router.Actors.Inference.GenerationStats;
using ChatMessage = Router.Gateway.Grpc.Contracts.Compute.ChatMessage;

namespace Router.Gateway.Grpc.Services;

/// <summary>
/// compute.v1.ComputeService on top of the router: annotations become routing hints, the request
/// becomes Ollama-native and OpenAI bodies (the shared <see cref="GenerationRequestBuilder"/>),
/// errors become statuses in <see cref="GrpcErrors"/>. ollama_proxy.OllamaProxy answers with the
/// same methods (<see cref="OllamaProxyGrpcService"/>).
/// </summary>
internal sealed class ComputeGrpcService(
    IInferenceRouter router, IRouterAdmin admin, RequestRate requestRate, ModelContextLengths contextLengths, TimeProvider timeProvider,
    Lazy<Akka.Streams.IMaterializer> materializer)
    : Contracts.Compute.ComputeService.ComputeServiceBase
{
    public override async Task<GenerateResponse> Generate(GenerateRequest request, ServerCallContext context)
    {
        var inference = ToInference(request, stream: false);
        var answer = Unwrap(await router.SendAsync(inference, context.CancellationToken).ConfigureAwait(false));
        return new GenerateResponse
        {
            Response = AnswerReader.ReadText(answer.Response.Body),
            BackendUsed = answer.Decision.BackendId,
            Routing = ToRouting(answer.Decision),
            Stats = ToStats(answer.Stats),
        };
    }

    public override Task GenerateStream(GenerateRequest request, IServerStreamWriter<GenerateStreamResponse> responseStream, ServerCallContext context) =>
        StreamAsync(ToInference(request, stream: true), responseStream, context.CancellationToken);

    public override async Task<ChatResponse> Chat(ChatRequest request, ServerCallContext context)
    {
        var inference = ToInference(request, stream: false);
        var answer = Unwrap(await router.SendAsync(inference, context.CancellationToken).ConfigureAwait(false));
        return new ChatResponse
        {
            Message = new ChatMessage { Role = "assistant", Content = AnswerReader.ReadText(answer.Response.Body) },
            BackendUsed = answer.Decision.BackendId,
            Routing = ToRouting(answer.Decision),
            Stats = ToStats(answer.Stats),
        };
    }

    public override Task ChatStream(ChatRequest request, IServerStreamWriter<GenerateStreamResponse> responseStream, ServerCallContext context) =>
        StreamAsync(ToInference(request, stream: true), responseStream, context.CancellationToken);

    public override async Task<EmbedResponse> Embed(EmbedRequest request, ServerCallContext context)
    {
        var model = Required(request.Model, "model");
        var text = Required(request.Text, "text");
        var inference = GenerationInputMapper.Embedding(model, text, AnnotationMapper.Map(request.Annotations));
        var answer = Unwrap(await router.SendAsync(inference, context.CancellationToken).ConfigureAwait(false));
        var response = new EmbedResponse
        {
            BackendUsed = answer.Decision.BackendId,
            Routing = ToRouting(answer.Decision),
        };
        response.Embedding.Add(AnswerReader.ReadEmbedding(answer.Response.Body));
        return response;
    }

    public override async Task<ListBackendsResponse> ListBackends(ListBackendsRequest request, ServerCallContext context)
    {
        var backends = await admin.GetBackendsAsync(context.CancellationToken).ConfigureAwait(false);
        var listed = backends.Where(backend => request.TypeFilter.Length == 0
            || string.Equals(backend.Type, request.TypeFilter, StringComparison.OrdinalIgnoreCase)
            || string.Equals(backend.Hardware, request.TypeFilter, StringComparison.OrdinalIgnoreCase)).ToArray();
        // Every backend's models are looked up at once: the slowest backend bounds the call, not their sum.
        var maxContexts = await Task.WhenAll(listed.Select(backend => contextLengths.MaxContextAsync(backend, context.CancellationToken))).ConfigureAwait(false);
        var response = new ListBackendsResponse();
        for (var i = 0; i < listed.Length; i++)
        {
            var info = ToBackendInfo(listed[i]);
            info.Capabilities.MaxContext = maxContexts[i];
            info.Metrics.RequestsPerMinute = requestRate.PerMinute(listed[i].Id);
            response.Backends.Add(info);
        }

        return response;
    }

    public override async Task<HealthCheckResponse> HealthCheck(HealthCheckRequest request, ServerCallContext context)
    {
        var backends = await admin.GetBackendsAsync(context.CancellationToken).ConfigureAwait(false);
        var response = new HealthCheckResponse { TimestampUnix = timeProvider.GetUtcNow().ToUnixTimeSeconds() };
        var healthy = 0;
        foreach (var backend in backends)
        {
            response.BackendHealth[backend.Id] = HealthName(backend.Health);
            if (backend.Health == BackendHealth.Healthy)
            {
                healthy++;
            }
        }

        response.Status = healthy == backends.Length && healthy > 0 ? "healthy" : healthy > 0 ? "degraded" : "unhealthy";
        return response;
    }

    /// <summary>
    /// Opens the router's stream and writes it out (<see cref="TokenStreamWriter"/>). Leaving early
    /// (client cancel, deadline, shutdown) disposes the stream, which cancels the backend call
    /// and frees its slot.
    /// </summary>
    private async Task StreamAsync(InferenceRequest inference, IServerStreamWriter<GenerateStreamResponse> responses, CancellationToken cancellationToken)
    {
        var stream = Unwrap(await router.StreamAsync(inference, cancellationToken).ConfigureAwait(false));
        await using (stream.ConfigureAwait(false))
        {
            await TokenStreamWriter.WriteAsync(stream, responses, materializer.Value, cancellationToken).ConfigureAwait(false);
        }
    }

    private static InferenceRequest ToInference(GenerateRequest request, bool stream)
    {
        var model = Required(request.Model, "model");
        var prompt = Required(request.Prompt, "prompt");
        return GenerationInputMapper.Generation(model, prompt, null, request.Options, AnnotationMapper.Map(request.Annotations), stream);
    }

    private static InferenceRequest ToInference(ChatRequest request, bool stream)
    {
        var model = Required(request.Model, "model");
        if (request.Messages.Count == 0)
        {
            throw GrpcErrors.InvalidArgument("messages must hold at least one message.");
        }

        return GenerationInputMapper.Generation(model, null, request.Messages, request.Options, AnnotationMapper.Map(request.Annotations), stream);
    }

    private static string Required(string value, string field) =>
        value.Length > 0 ? value : throw GrpcErrors.InvalidArgument($"{field} is required.");

    private static T Unwrap<T>(Result<T, InferenceError> result)
    {
        if (result.IsOk)
        {
            return result.Value;
        }

        throw GrpcErrors.From(result.Error);
    }

    internal static RoutingMetadata ToRouting(RoutingDecision decision)
    {
        var routing = new RoutingMetadata
        {
            Backend = decision.BackendId,
            Reason = decision.Reason,
            EstimatedPowerWatts = (float)decision.Estimate.PowerWatts,
            EstimatedLatencyMs = ClampToInt(decision.Estimate.LatencyMs),
        };
        routing.Alternatives.Add(decision.Alternatives);
        return routing;
    }

    internal static ProtoStats ToStats(RouterStats stats) => new()
    {
        TimeToFirstTokenMs = ClampToInt(stats.TimeToFirstTokenMs),
        TotalTimeMs = ClampToInt(stats.TotalTimeMs),
        TokensGenerated = stats.TokensGenerated,
        TokensPerSecond = (float)stats.TokensPerSecond,
        EnergyWh = (float)stats.EnergyWh,
    };

    internal static BackendInfo ToBackendInfo(BackendSnapshot backend)
    {
        var models = backend.Models.Order(StringComparer.Ordinal);
        var info = new BackendInfo
        {
            Id = backend.Id,
            Type = backend.Type,
            Name = backend.Name,
            Hardware = backend.Hardware,
            Node = backend.Node ?? "",
            NetworkRoundTripMs = backend.NetworkRoundTripMs,
            Status = new BackendStatus
            {
                State = HealthName(backend.Health),
                Message = backend.StatusMessage ?? "",
                LastCheckUnix = backend.LastCheck?.ToUnixTimeSeconds() ?? 0,
            },
            // max_context and requests_per_minute come from outside the snapshot (ListBackends fills them in).
            Capabilities = new BackendCapabilities { Generate = true, Embed = true, Stream = true },
            Metrics = new BackendMetrics
            {
                AvgLatencyMs = ClampToInt(MeasuredLatency(backend) ?? backend.AvgLatencyMs),
                ErrorRate = (float)backend.ErrorRate,
                PowerWatts = (float)backend.PowerWatts,
            },
        };
        info.Capabilities.Models.Add(models);
        // The models with live metrics are the ones the backend has served: the nearest we know to "loaded".
        info.Metrics.LoadedModels.Add(backend.MetricsByModel.Keys.Order(StringComparer.Ordinal));
        return info;
    }

    /// <summary>Mean measured time to first token over the models with samples, or null.</summary>
    private static double? MeasuredLatency(BackendSnapshot backend)
    {
        double sum = 0;
        var count = 0;
        foreach (var (_, metrics) in backend.MetricsByModel)
        {
            if (metrics.Samples > 0)
            {
                sum += metrics.TimeToFirstTokenMs;
                count++;
            }
        }

        return count > 0 ? sum / count : null;
    }

    internal static string HealthName(BackendHealth health) => WireNames.ToWire(health);

    private static int ClampToInt(double value) =>
        double.IsNaN(value) ? 0 : (int)Math.Clamp(Math.Round(value), int.MinValue, int.MaxValue);
}
