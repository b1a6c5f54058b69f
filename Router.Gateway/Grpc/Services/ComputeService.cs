using System.Collections.Immutable;
using Akka.Streams;
using Router.Actors.Backends;
using Router.Actors.Inference;
using Router.Actors.Routing;
using Router.Gateway.Grpc.Contracts.Compute;
using ProtoStats = Router.Gateway.Grpc.Contracts.Compute.GenerationStats;
using RouterStats = Router.Actors.Inference.GenerationStats;
using ChatMessage = Router.Gateway.Grpc.Contracts.Compute.ChatMessage;

namespace Router.Gateway.Grpc.Services;

/// <summary>
/// compute.v1.ComputeService (and ollama_proxy.OllamaProxy, which shares its messages) on top of
/// the router: annotations become routing hints, the request becomes Ollama-native and OpenAI
/// bodies, errors become statuses in <see cref="InferenceStatusMapper"/>.
/// </summary>
internal sealed class ComputeService(IInferenceRouter router, IRouterAdmin admin, TimeProvider timeProvider, Lazy<IMaterializer> materializer)
{
    public void Register(GrpcServiceRegistry registry)
    {
        var compute = ComputeReflection.Descriptor.FindTypeByName<Google.Protobuf.Reflection.ServiceDescriptor>("ComputeService");
        registry.AddUnary<GenerateRequest, GenerateResponse>(compute.FindMethodByName("Generate"), GenerateAsync);
        registry.AddServerStreaming<GenerateRequest, GenerateStreamResponse>(compute.FindMethodByName("GenerateStream"), GenerateStreamAsync);
        registry.AddUnary<ChatRequest, ChatResponse>(compute.FindMethodByName("Chat"), ChatAsync);
        registry.AddServerStreaming<ChatRequest, GenerateStreamResponse>(compute.FindMethodByName("ChatStream"), ChatStreamAsync);
        registry.AddUnary<EmbedRequest, EmbedResponse>(compute.FindMethodByName("Embed"), EmbedAsync);
        registry.AddUnary<ListBackendsRequest, ListBackendsResponse>(compute.FindMethodByName("ListBackends"), ListBackendsAsync);
        registry.AddUnary<HealthCheckRequest, HealthCheckResponse>(compute.FindMethodByName("HealthCheck"), HealthCheckAsync);

        var legacy = Contracts.OllamaProxy.OllamaProxyReflection.Descriptor.Services[0];
        registry.AddUnary<GenerateRequest, GenerateResponse>(legacy.FindMethodByName("Generate"), GenerateAsync);
        registry.AddServerStreaming<GenerateRequest, GenerateStreamResponse>(legacy.FindMethodByName("GenerateStream"), GenerateStreamAsync);
    }

    public async ValueTask<GenerateResponse> GenerateAsync(GenerateRequest request, GrpcCallContext context)
    {
        var inference = ToInference(request, stream: false);
        var result = await router.SendAsync(inference, context.CancellationToken).ConfigureAwait(false);
        var answer = Unwrap(result);
        return new GenerateResponse
        {
            Response = AnswerReader.ReadText(answer.Response.Body),
            BackendUsed = answer.Decision.BackendId,
            Routing = ToRouting(answer.Decision),
            Stats = ToStats(answer.Stats),
        };
    }

    public ValueTask GenerateStreamAsync(GenerateRequest request, IGrpcStreamWriter<GenerateStreamResponse> responses, GrpcCallContext context) =>
        StreamAsync(ToInference(request, stream: true), responses, context);

    public async ValueTask<ChatResponse> ChatAsync(ChatRequest request, GrpcCallContext context)
    {
        var inference = ToInference(request, stream: false);
        var result = await router.SendAsync(inference, context.CancellationToken).ConfigureAwait(false);
        var answer = Unwrap(result);
        return new ChatResponse
        {
            Message = new ChatMessage { Role = "assistant", Content = AnswerReader.ReadText(answer.Response.Body) },
            BackendUsed = answer.Decision.BackendId,
            Routing = ToRouting(answer.Decision),
            Stats = ToStats(answer.Stats),
        };
    }

    public ValueTask ChatStreamAsync(ChatRequest request, IGrpcStreamWriter<GenerateStreamResponse> responses, GrpcCallContext context) =>
        StreamAsync(ToInference(request, stream: true), responses, context);

    public async ValueTask<EmbedResponse> EmbedAsync(EmbedRequest request, GrpcCallContext context)
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

    public async ValueTask<ListBackendsResponse> ListBackendsAsync(ListBackendsRequest request, GrpcCallContext context)
    {
        var backends = await admin.GetBackendsAsync(context.CancellationToken).ConfigureAwait(false);
        var response = new ListBackendsResponse();
        foreach (var backend in backends)
        {
            if (request.TypeFilter.Length == 0
                || string.Equals(backend.Type, request.TypeFilter, StringComparison.OrdinalIgnoreCase)
                || string.Equals(backend.Hardware, request.TypeFilter, StringComparison.OrdinalIgnoreCase))
            {
                response.Backends.Add(ToBackendInfo(backend));
            }
        }

        return response;
    }

    public async ValueTask<HealthCheckResponse> HealthCheckAsync(HealthCheckRequest request, GrpcCallContext context)
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
    /// Runs the router's stream into gRPC messages: each chunk's text as soon as it arrives (every
    /// write is flushed, and the next event is taken only once it is), then one last message with
    /// done, backend_used and stats. Leaving early (client cancel, deadline) ends the stream, which
    /// cancels the backend call and frees its slot.
    /// </summary>
    private async ValueTask StreamAsync(InferenceRequest inference, IGrpcStreamWriter<GenerateStreamResponse> responses, GrpcCallContext context)
    {
        var token = context.CancellationToken;
        var stream = Unwrap(await router.StreamAsync(inference, token).ConfigureAwait(false));
        await using (stream.ConfigureAwait(false))
        {
            var writer = new MessageWriter(responses, stream);
            await stream.WriteToAsync(writer, materializer.Value, token).ConfigureAwait(false);
            if (writer.Status is { } status)
            {
                throw new GrpcStatusException(status);
            }
        }
    }

    /// <summary>Writes the events as GenerateStreamResponse messages; a failure becomes the call's status.</summary>
    private sealed class MessageWriter(IGrpcStreamWriter<GenerateStreamResponse> responses, IInferenceStream stream) : IStreamEventWriter
    {
        /// <summary>The status to end the call with, when the stream failed or was cut short.</summary>
        public GrpcStatus? Status { get; private set; }

        public async ValueTask<bool> WriteAsync(StreamEvent item, CancellationToken cancellationToken)
        {
            switch (item)
            {
                case StreamChunk { Text.Length: > 0 } chunk:
                    await responses.WriteAsync(new GenerateStreamResponse { Token = chunk.Text }, cancellationToken).ConfigureAwait(false);
                    break;
                case StreamCompleted:
                    await responses.WriteAsync(new GenerateStreamResponse
                    {
                        Done = true,
                        BackendUsed = stream.Decision.BackendId,
                        Stats = ToStats(stream.Stats ?? RouterStats.Empty),
                    }, cancellationToken).ConfigureAwait(false);
                    break;
                case StreamFailed failed:
                    Status = InferenceStatusMapper.ToStatus(failed.Error);
                    break;
            }

            return true;
        }

        public ValueTask WriteTruncatedAsync(CancellationToken cancellationToken)
        {
            Status = new GrpcStatus(GrpcStatusCode.Unavailable, "The backend stream ended without completing.");
            return default;
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
            throw new GrpcStatusException(GrpcStatusCode.InvalidArgument, "messages must hold at least one message.");
        }

        return GenerationInputMapper.Generation(model, null, request.Messages, request.Options, AnnotationMapper.Map(request.Annotations), stream);
    }

    private static string Required(string value, string field) =>
        value.Length > 0 ? value : throw new GrpcStatusException(GrpcStatusCode.InvalidArgument, $"{field} is required.");

    private static T Unwrap<T>(Result<T, InferenceError> result)
    {
        if (result.IsOk)
        {
            return result.Value;
        }

        throw InferenceStatusMapper.ToException(result.Error);
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

    internal static string HealthName(BackendHealth health) => health switch
    {
        BackendHealth.Healthy => "healthy",
        BackendHealth.Degraded => "degraded",
        BackendHealth.Unhealthy => "unhealthy",
        BackendHealth.Ejected => "ejected",
        _ => "unknown",
    };

    private static int ClampToInt(double value) =>
        double.IsNaN(value) ? 0 : (int)Math.Clamp(Math.Round(value), int.MinValue, int.MaxValue);
}
