using System.Collections.Immutable;
using System.Threading.Channels;

namespace Router.Actors.Backends;

/// <summary>The backend APIs a request can be sent to.</summary>
public enum BackendApi
{
    OllamaGenerate,
    OllamaChat,
    OllamaEmbed,
    OllamaEmbeddings,
    OpenAIChatCompletions,
    OpenAICompletions,
    OpenAIEmbeddings,
}

/// <summary>
/// A request as the backend receives it: <paramref name="Body"/> is JSON in the API's own format
/// (passed through unchanged from the client where the API matches), with the model chosen.
/// </summary>
public sealed record BackendRequest(BackendApi Api, ReadOnlyMemory<byte> Body, bool Stream)
{
    /// <summary>
    /// The request's routing hints, set only for a backend that routes further (a fleet peer, which
    /// queues the request at its priority); null otherwise.
    /// </summary>
    public Routing.RoutingHints? Hints { get; init; }
}

/// <summary>Token counts and backend-reported timings, as far as the backend reports them.</summary>
public sealed record BackendUsage(int PromptTokens, int CompletionTokens)
{
    /// <summary>Backend-measured generation time (Ollama's eval_duration), when reported.</summary>
    public TimeSpan? EvalDuration { get; init; }
    public static readonly BackendUsage None = new(0, 0);
}

public enum BackendErrorKind
{
    /// <summary>The connection could not be made (refused, reset, DNS).</summary>
    ConnectFailed,
    /// <summary>No first byte within the first-byte timeout, or silence beyond the idle timeout.</summary>
    Timeout,
    /// <summary>The backend answered with a non-success status.</summary>
    HttpStatus,
    /// <summary>The answer could not be parsed.</summary>
    Protocol,
    /// <summary>The stream broke after it had started.</summary>
    StreamBroken,
    /// <summary>The backend type does not offer this API.</summary>
    NotSupported,
    /// <summary>The request's slot was taken by a critical request (load shedding); worth retrying.</summary>
    Preempted,
}

/// <summary>A backend failure as a value.</summary>
/// <param name="StatusCode">The backend's HTTP status, for <see cref="BackendErrorKind.HttpStatus"/>.</param>
/// <param name="Body">The backend's error body, when it sent one.</param>
public sealed record BackendError(BackendErrorKind Kind, string Message, int? StatusCode = null, ReadOnlyMemory<byte> Body = default)
{
    /// <summary>
    /// A failure worth trying on another backend: connection, timeout, 5xx. A 4xx is the client's
    /// mistake and goes back to the client unchanged.
    /// </summary>
    public bool IsRetryable => Kind is BackendErrorKind.ConnectFailed or BackendErrorKind.Timeout
        or BackendErrorKind.StreamBroken or BackendErrorKind.NotSupported or BackendErrorKind.Preempted
        || (Kind == BackendErrorKind.HttpStatus && StatusCode is null or >= 500);

    /// <summary>
    /// What the backend said in its error body: Ollama's <c>{"error": "…"}</c>, OpenAI's
    /// <c>{"error": {"message": "…"}}</c>, or a short plain-text body. Null when it said nothing usable.
    /// </summary>
    public string? BodyMessage()
    {
        if (Body.IsEmpty) return null;
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(Body);
            if (document.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object
                && document.RootElement.TryGetProperty("error", out var error))
            {
                if (error.ValueKind == System.Text.Json.JsonValueKind.String) return error.GetString();
                if (error.ValueKind == System.Text.Json.JsonValueKind.Object
                    && error.TryGetProperty("message", out var message)
                    && message.ValueKind == System.Text.Json.JsonValueKind.String)
                {
                    return message.GetString();
                }
            }

            return null;
        }
        catch (System.Text.Json.JsonException)
        {
            // Not JSON: a plain-text body is the message, as long as it is short enough to be one.
            return Body.Length <= 1024 ? System.Text.Encoding.UTF8.GetString(Body.Span).Trim() : null;
        }
    }
}

/// <summary>One event of a streaming answer.</summary>
public abstract record StreamEvent;

/// <summary>
/// One chunk as the backend framed it. <paramref name="Raw"/> is the JSON of one NDJSON line or one
/// SSE <c>data:</c> event (without framing), so surfaces of the same API family forward it unchanged;
/// <paramref name="Text"/> is the generated text in it (may be empty).
/// </summary>
public sealed record StreamChunk(ReadOnlyMemory<byte> Raw, string Text) : StreamEvent
{
    /// <summary>
    /// The backend's next chunk had already arrived with this one (they came in one read). A
    /// surface may then write both before it flushes: one send for the burst instead of one per
    /// chunk, and no chunk waits longer than the read it came in.
    /// </summary>
    public bool MoreFollows { get; internal set; }

    /// <summary>
    /// Set on the backend's final object when it is a chunk too (Ollama's <c>"done": true</c>, which
    /// surfaces forward with its stats): the answer is whole once this chunk is delivered, and
    /// <see cref="StreamCompleted"/> follows. Whatever happens to the call after it (a preemption,
    /// the connection's drain) cannot turn a delivered answer into a failed one.
    /// </summary>
    public StreamCompleted? Completes { get; internal set; }
}

/// <summary>The stream ended normally. Always the last event of a successful stream.</summary>
public sealed record StreamCompleted(BackendUsage Usage) : StreamEvent;

/// <summary>The stream failed. Always the last event of a failed stream.</summary>
public sealed record StreamFailed(BackendError Error) : StreamEvent;

/// <summary>A non-streaming answer: the backend's status and body, or an error.</summary>
public sealed record BackendResponse(int StatusCode, ReadOnlyMemory<byte> Body, BackendUsage Usage);

/// <summary>A model a backend holds.</summary>
public sealed record BackendModel(string Name, long SizeBytes = 0, DateTimeOffset? ModifiedAt = null)
{
    /// <summary>The backend's own JSON for this model in /api/tags, for passthrough unions.</summary>
    public ReadOnlyMemory<byte> Raw { get; init; }
}

/// <summary>Talks to one backend server. One instance per backend, with its own pooled handler.</summary>
public interface IBackendClient : IDisposable
{
    string BackendId { get; }

    /// <summary>Whether this backend type offers <paramref name="api"/>.</summary>
    bool Supports(BackendApi api);

    /// <summary>Sends a non-streaming request. Expected failures come back as <see cref="BackendError"/>, not exceptions.</summary>
    Task<Result<BackendResponse, BackendError>> SendAsync(BackendRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Starts a streaming request. Events arrive on a bounded channel; a slow reader stops reads
    /// from the backend socket (backpressure). Cancelling <paramref name="cancellationToken"/> aborts the
    /// backend call. The last event is <see cref="StreamCompleted"/> or <see cref="StreamFailed"/>.
    /// </summary>
    ChannelReader<StreamEvent> Stream(BackendRequest request, CancellationToken cancellationToken);

    /// <summary>Cheap liveness probe (Ollama: GET /api/version; OpenAI: GET /v1/models).</summary>
    Task<Result<TimeSpan, BackendError>> ProbeAsync(CancellationToken cancellationToken);

    /// <summary>The models the backend holds (Ollama: /api/tags; OpenAI: /v1/models).</summary>
    Task<Result<ImmutableArray<BackendModel>, BackendError>> ListModelsAsync(CancellationToken cancellationToken);

    /// <summary>Raw passthrough for informational endpoints (/api/ps, /api/show, /api/version).</summary>
    Task<Result<BackendResponse, BackendError>> PassthroughAsync(HttpMethod method, string path, ReadOnlyMemory<byte> body, CancellationToken cancellationToken);

    /// <summary>
    /// The longest context, in tokens, that <paramref name="model"/> takes on this backend, as the
    /// backend reports it (Ollama: <c>/api/show</c>, <c>model_info.&lt;architecture&gt;.context_length</c>).
    /// Backends that do not say answer <see cref="BackendErrorKind.NotSupported"/>.
    /// </summary>
    Task<Result<int, BackendError>> GetContextLengthAsync(string model, CancellationToken cancellationToken) =>
        Task.FromResult<Result<int, BackendError>>(new BackendError(BackendErrorKind.NotSupported, $"Backend '{BackendId}' does not report context lengths."));
}

/// <summary>A value or an expected error. Used where failure is part of normal operation.</summary>
public readonly struct Result<TValue, TError>
    where TError : class
{
    private readonly TValue? _value;
    private readonly TError? _error;

    private Result(TValue? value, TError? error)
    {
        _value = value;
        _error = error;
    }

    public bool IsOk => _error is null;
    public TValue Value => _error is null ? _value! : throw new InvalidOperationException("The result is an error: " + _error);
    public TError Error => _error ?? throw new InvalidOperationException("The result is not an error.");

    public static Result<TValue, TError> Ok(TValue value) => new(value, null);
    public static Result<TValue, TError> Fail(TError error) => new(default, error ?? throw new ArgumentNullException(nameof(error)));

    public static implicit operator Result<TValue, TError>(TError error) => Fail(error);
}
