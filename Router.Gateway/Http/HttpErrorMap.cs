using System.Text;
using System.Text.Json;
using Router.Actors.Backends;
using Router.Actors.Inference;
using Router.Actors.Routing;

namespace Router.Gateway.Http;

/// <summary>
/// The one place where failures become HTTP answers. Every surface on the HTTP port (and the
/// WebSocket's error frames) goes through here, so a kind of failure has one status everywhere.
/// </summary>
internal static class HttpErrorMap
{
    /// <summary>Retry-After when the router does not say: long enough for a probe or a slot to turn over.</summary>
    public static readonly TimeSpan DefaultRetryAfter = TimeSpan.FromSeconds(5);

    public const string InvalidRequest = "invalid_request_error";
    public const string NotFound = "not_found_error";
    public const string RateLimit = "rate_limit_error";
    public const string ServerError = "server_error";
    public const string Unavailable = "service_unavailable";

    /// <summary>The daemon is stopping: the request was not started, or was cut off at the end of the drain.</summary>
    public static readonly HttpError ShuttingDown = new(503, Unavailable, "shutting_down",
        "The router is shutting down and takes no more work; retry in a moment.", RetryAfter: DefaultRetryAfter);

    public static HttpError FromInference(InferenceError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        if (error.Route is { } route) return FromRoute(route);
        if (error.Backend is { } backend) return FromBackend(backend);
        return new HttpError(502, ServerError, "backend_error", error.Message);
    }

    public static HttpError FromRoute(RouteFailure failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        var retry = failure.RetryAfter ?? DefaultRetryAfter;
        return failure.Kind switch
        {
            RouteFailureKind.UnknownTarget => new HttpError(400, InvalidRequest, "unknown_target", failure.Message, RoutingHeaders.TargetBackend),
            RouteFailureKind.ModelNotAvailable => new HttpError(404, NotFound, "model_not_found", failure.Message, "model"),
            RouteFailureKind.NoHealthyBackend => new HttpError(503, Unavailable, "no_healthy_backend", failure.Message, RetryAfter: retry),
            RouteFailureKind.PowerBudgetExceeded => new HttpError(503, Unavailable, "power_budget_exceeded", failure.Message, RetryAfter: retry),
            RouteFailureKind.LatencyBudgetExceeded => new HttpError(503, Unavailable, "latency_budget_exceeded", failure.Message, RetryAfter: retry),
            RouteFailureKind.ExcludedByMode => new HttpError(503, Unavailable, "excluded_by_mode", failure.Message, RetryAfter: retry),
            RouteFailureKind.TooHot => new HttpError(503, Unavailable, "too_hot", failure.Message, RetryAfter: retry),
            RouteFailureKind.QueueFull => new HttpError(429, RateLimit, "queue_full", failure.Message, RetryAfter: retry),
            _ => new HttpError(503, Unavailable, "unavailable", failure.Message, RetryAfter: retry),
        };
    }

    /// <summary>
    /// A backend's 4xx is the client's mistake: it goes back with the backend's status and message.
    /// Anything else the backend did wrong is a bad gateway.
    /// </summary>
    public static HttpError FromBackend(BackendError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        if (error.Kind == BackendErrorKind.Preempted)
        {
            // Shed under overload for critical work: the request was fine, try again shortly.
            return new HttpError(503, Unavailable, "preempted", error.Message, RetryAfter: DefaultRetryAfter);
        }

        if (error is { Kind: BackendErrorKind.HttpStatus, StatusCode: >= 400 and < 500 and var status })
        {
            var message = error.BodyMessage() ?? error.Message;
            var type = status switch
            {
                404 => NotFound,
                429 => RateLimit,
                _ => InvalidRequest,
            };
            return new HttpError(status, type, "backend_rejected", message);
        }
        return new HttpError(502, ServerError, "backend_error", error.Message);
    }

    public static HttpError MalformedJson(string detail) =>
        new(400, InvalidRequest, "invalid_json", "The request body is not valid JSON: " + detail);

    /// <summary>A body the JSON reader rejected; an empty one says so instead of the reader's riddle.</summary>
    public static HttpError MalformedJson(JsonException exception, ReadOnlySpan<byte> body) =>
        body.Trim(" \t\r\n"u8).IsEmpty
            ? new(400, InvalidRequest, "invalid_json", "The request body is empty: send a JSON object.")
            : MalformedJson(exception.Message);

    public static HttpError MissingField(string field, string what) =>
        new(400, InvalidRequest, "missing_field", $"'{field}' is required: {what}.", field);

    public static HttpError InvalidField(string field, string what) =>
        new(400, InvalidRequest, "invalid_field", $"'{field}' is invalid: {what}.", field);

    /// <summary>A string that is not Unicode text (see <see cref="JsonText"/>).</summary>
    public static HttpError InvalidText(string field) =>
        InvalidField(field, NotText);

    /// <summary>A property name that is not Unicode text, shown with its escapes (see <see cref="JsonText.Printable(System.Text.Json.JsonProperty)"/>).</summary>
    public static HttpError InvalidName(string printable) =>
        InvalidField(printable, "the name " + NotText[3..]);

    /// <summary>Why a string or a key was refused, for the messages that name it.</summary>
    public const string NotText = "it is not Unicode text (bytes that are not UTF-8, or an escaped surrogate without its pair such as \\ud800); send UTF-8 text";

    public static HttpError InvalidHeader(HintError error) =>
        new(400, InvalidRequest, "invalid_header", error.Message, error.Name);

    public static HttpError BodyTooLarge(long limit) =>
        new(413, InvalidRequest, "request_too_large", $"The request body is larger than the limit of {limit} bytes (server.max-request-body).");

    /// <summary>A body the connection could not deliver as HTTP framing promised (a bad chunk, a short Content-Length).</summary>
    public static HttpError MalformedBody(string detail) =>
        new(400, InvalidRequest, "malformed_body", "The request body could not be read: " + detail);

    public static HttpError MethodNotAllowed(string method, string path, string allowed) =>
        new(405, InvalidRequest, "method_not_allowed", $"{method} is not allowed on {path}; use {allowed}.");

    /// <summary>Pull, push, create, copy, delete: the router routes requests, each backend keeps its own models.</summary>
    public static HttpError ModelManagement(string backends) =>
        new(501, InvalidRequest, "not_supported",
            "The router does not manage models; each backend keeps its own. Pull, create, copy or delete them on the backend itself, "
            + "e.g. OLLAMA_HOST=<backend endpoint> ollama pull <model>." + (backends.Length > 0 ? $" Backends: {backends}." : ""));

    public static HttpError UnknownPath(string path) =>
        new(404, NotFound, "unknown_path", $"There is no endpoint at {path}.");
}
