using System.Collections.Immutable;
using Google.Protobuf.Collections;
using Router.Actors.Backends;
using Router.Actors.Inference;
using Router.Actors.Routing;
using ProtoChatMessage = Router.Gateway.Grpc.Contracts.Compute.ChatMessage;
using ProtoOptions = Router.Gateway.Grpc.Contracts.Compute.GenerationOptions;

namespace Router.Gateway.Grpc.Services;

/// <summary>
/// gRPC requests → the shared backend request builders (GenerationRequestBuilder,
/// EmbeddingRequestBuilder in Router.Actors.Backends), so gRPC sends the same Ollama-native and
/// OpenAI bodies as the WebSocket. Proto3 scalars cannot say "unset": 0 and empty mean
/// "the backend's default" and become null, except temperature, whose presence is tracked.
/// </summary>
internal static class GenerationInputMapper
{
    public static InferenceRequest Generation(string model, string? prompt, RepeatedField<ProtoChatMessage>? messages, ProtoOptions? options, RoutingHints hints, bool stream)
    {
        var input = new GenerationInput(model)
        {
            Prompt = prompt,
            Messages = messages is null ? [] : [.. messages.Select(static m => new ChatMessage(m.Role, m.Content))],
            Options = ToOptions(options),
            Stream = stream,
        };
        return GenerationRequestBuilder.Build(input, hints);
    }

    public static InferenceRequest Embedding(string model, string text, RoutingHints hints)
    {
        string[] inputs = [text];
        return new InferenceRequest(model, hints, EmbeddingRequestBuilder.ForOllama(model, inputs))
        {
            OpenAI = EmbeddingRequestBuilder.ForOpenAI(model, inputs),
        };
    }

    public static GenerationOptions ToOptions(ProtoOptions? options)
    {
        if (options is null)
        {
            return GenerationOptions.Default;
        }

        return new GenerationOptions
        {
            MaxTokens = options.MaxTokens > 0 ? options.MaxTokens : null,
            // Set explicitly (proto3 optional): a temperature of 0 is a real choice, not "unset".
            Temperature = options.HasTemperature ? FromFloat(Finite(options.Temperature, "temperature")) : null,
            TopP = options.TopP != 0 ? FromFloat(Finite(options.TopP, "top_p")) : null,
            TopK = options.TopK > 0 ? options.TopK : null,
            Stop = options.Stop.Count > 0 ? [.. options.Stop] : ImmutableArray<string>.Empty,
            ContextLength = options.ContextLength > 0 ? options.ContextLength : null,
        };
    }

    /// <summary>A float a backend can take: JSON has no NaN or infinity, and no backend a meaning for them.</summary>
    private static float Finite(float value, string field) =>
        float.IsFinite(value) ? value : throw GrpcErrors.InvalidArgument($"options.{field} must be a finite number, not {value.ToString(System.Globalization.CultureInfo.InvariantCulture)}.");

    /// <summary>0.9f is 0.899999976… as a double; its shortest decimal form is what the client meant.</summary>
    private static double FromFloat(float value) => double.Parse(value.ToString("R", System.Globalization.CultureInfo.InvariantCulture), System.Globalization.CultureInfo.InvariantCulture);
}
