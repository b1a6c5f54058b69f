using System.Collections.Immutable;
using Akka;
using Akka.Streams;
using Akka.Streams.Dsl;
using Router.Actors.Backends;
using Router.Actors.Inspection;
using Router.Actors.Routing;

namespace Router.Actors.Inference;

/// <summary>
/// One inference request as a surface hands it to the router.
/// <para><see cref="Native"/> is used on backends that support its API. For a surface that is not
/// tied to one API family (WebSocket, gRPC), <see cref="OpenAI"/> gives the same request for
/// OpenAI-compatible backends; a backend that supports neither is not a candidate.</para>
/// </summary>
public sealed record InferenceRequest(string Model, RoutingHints Hints, BackendRequest Native)
{
    public BackendRequest? OpenAI { get; init; }
    /// <summary>Expected answer length in tokens (max_tokens when the client sets it), for estimates.</summary>
    public int? ExpectedTokens { get; init; }
    public bool IsEmbedding => Native.Api is BackendApi.OllamaEmbed or BackendApi.OllamaEmbeddings or BackendApi.OpenAIEmbeddings;
}

/// <summary>What a request cost, for every request whatever its surface.</summary>
public sealed record GenerationStats(
    double TimeToFirstTokenMs,
    double TotalTimeMs,
    int TokensGenerated,
    double TokensPerSecond,
    double EnergyWh)
{
    public static readonly GenerationStats Empty = new(0, 0, 0, 0, 0);
}

/// <summary>Why a request got no answer. Exactly one of the two is set.</summary>
public sealed record InferenceError(RouteFailure? Route, BackendError? Backend)
{
    /// <summary>The backends tried, in order, for the error message and the decision record.</summary>
    public ImmutableArray<string> Attempted { get; init; } = ImmutableArray<string>.Empty;
    public string Message => Route?.Message ?? Backend?.Message ?? "unknown error";

    public static InferenceError FromRoute(RouteFailure failure) => new(failure, null);
    public static InferenceError FromBackend(BackendError error) => new(null, error);
}

/// <summary>
/// A streaming answer in progress. Created only once the first event has arrived from a backend
/// (after any fallback), so the surface knows the final backend before it writes headers.
/// Disposing it before the end cancels the backend call and frees the slot.
/// </summary>
public interface IInferenceStream : IAsyncDisposable
{
    RoutingDecision Decision { get; }
    /// <summary>
    /// Events from the backend as an Akka.Streams source, the first one included; it ends after
    /// StreamCompleted or StreamFailed. Materialize it once (<see cref="InferenceStreamExtensions.WriteToAsync"/>):
    /// cancelled downstream, it cancels the backend call and frees the slot.
    /// </summary>
    Source<StreamEvent, NotUsed> Events { get; }
    /// <summary>Set when the stream has ended (after the last event was read).</summary>
    GenerationStats? Stats { get; }
}

public static class InferenceStreamExtensions
{
    /// <summary>
    /// Runs <paramref name="stream"/>'s events into <paramref name="writer"/> with backpressure (see
    /// <see cref="StreamEventSink"/>). Throws <see cref="OperationCanceledException"/> when
    /// <paramref name="cancellationToken"/> ended it.
    /// </summary>
    public static async Task<StreamOutcome> WriteToAsync(this IInferenceStream stream, IStreamEventWriter writer, IMaterializer materializer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var outcome = await stream.Events
            .RunWith(Sink.FromGraph(new StreamEventSink(writer, cancellationToken)), materializer)
            .ConfigureAwait(false);
        if (outcome == StreamOutcome.Cancelled)
        {
            cancellationToken.ThrowIfCancellationRequested();
        }

        return outcome;
    }
}

/// <summary>A non-streaming answer.</summary>
public sealed record InferenceResponse(RoutingDecision Decision, BackendResponse Response, GenerationStats Stats);

/// <summary>The request path: route, admit to a backend slot, call, fall back, account.</summary>
public interface IInferenceRouter
{
    ValueTask<Result<IInferenceStream, InferenceError>> StreamAsync(InferenceRequest request, CancellationToken cancellationToken);
    ValueTask<Result<InferenceResponse, InferenceError>> SendAsync(InferenceRequest request, CancellationToken cancellationToken);
    /// <summary>Explains the decision the router would make now, without sending anything.</summary>
    ValueTask<Result<RoutingDecision, RouteFailure>> ExplainAsync(string? model, RoutingHints hints, CancellationToken cancellationToken);
}

/// <summary>What the admin surfaces read and change.</summary>
public interface IRouterAdmin
{
    ValueTask<ImmutableArray<BackendSnapshot>> GetBackendsAsync(CancellationToken cancellationToken);
    ValueTask<SystemState> GetSystemStateAsync(CancellationToken cancellationToken);
    /// <summary>Sets the user's mode; returns the state with the mode in effect.</summary>
    ValueTask<SystemState> SetModeAsync(EfficiencyMode mode, CancellationToken cancellationToken);
    /// <summary>The client of one backend, for passthrough of informational endpoints; null if unknown.</summary>
    IBackendClient? GetClient(string backendId);
    /// <summary>The actor tree under <paramref name="path"/> (e.g. <c>/user</c>); null when no actor lives there.</summary>
    ActorTreeSnapshot? InspectActors(string path);
}
