using System.Globalization;
using Grpc.Core;
using Router.Actors.Backends;
using Router.Actors.Inference;
using Router.Actors.Routing;

namespace Router.Gateway.Grpc;

/// <summary>
/// The one place where failures become gRPC statuses, each with a message that names the problem:
/// NOT_FOUND for a model no healthy backend holds, RESOURCE_EXHAUSTED for a full queue,
/// UNAVAILABLE (with retry information where the router has it) when nothing can serve now,
/// INVALID_ARGUMENT for a bad field or annotation.
/// </summary>
internal static class GrpcErrors
{
    /// <summary>
    /// gRPC's server pushback trailer (A6-client-retries): how long a client's retry policy should
    /// wait. Sent with every status that comes with a Retry-After on HTTP.
    /// </summary>
    public const string RetryPushbackTrailer = "grpc-retry-pushback-ms";

    public static readonly Status ShuttingDown = new(StatusCode.Unavailable, "The router is shutting down; retry once it is back.");

    /// <summary>An unexpected failure: the details stay in the router's log, never in the answer.</summary>
    public static readonly Status Internal = new(StatusCode.Internal, "The router failed to handle the call; its log has the details.");

    public static RpcException From(InferenceError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        if (error.Route is { } route)
        {
            return From(route);
        }

        return error.Backend is { } backend
            ? From(backend)
            : new RpcException(new Status(StatusCode.Unknown, error.Message));
    }

    public static RpcException From(RouteFailure failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        var code = failure.Kind switch
        {
            RouteFailureKind.UnknownTarget => StatusCode.InvalidArgument,
            RouteFailureKind.ModelNotAvailable => StatusCode.NotFound,
            RouteFailureKind.QueueFull => StatusCode.ResourceExhausted,
            _ => StatusCode.Unavailable,
        };
        if (failure.RetryAfter is not { } retry)
        {
            return new RpcException(new Status(code, failure.Message));
        }

        var trailers = new Metadata { { RetryPushbackTrailer, ((long)Math.Ceiling(retry.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture) } };
        return new RpcException(new Status(code, $"{failure.Message} (retry after {Math.Ceiling(retry.TotalSeconds):0} s)"), trailers);
    }

    /// <summary>A retryable backend failure is UNAVAILABLE; a 4xx is the client's mistake: INVALID_ARGUMENT.</summary>
    public static RpcException From(BackendError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        if (error.Kind == BackendErrorKind.HttpStatus && error.StatusCode is >= 400 and < 500)
        {
            return new RpcException(new Status(StatusCode.InvalidArgument, $"The backend rejected the request ({error.StatusCode}): {error.Message}"));
        }

        return new RpcException(new Status(StatusCode.Unavailable, $"Backend failed: {error.Message}"));
    }

    public static RpcException InvalidArgument(string message) => new(new Status(StatusCode.InvalidArgument, message));

    /// <summary>The backend answered, but not with anything the call can return.</summary>
    public static RpcException UnusableAnswer(string message) => new(new Status(StatusCode.Unavailable, message));

    /// <summary>
    /// Grpc.AspNetCore's own words for a request message over the limit; the client gets
    /// <see cref="MessageTooLarge"/> instead (see <see cref="GrpcRefusalStatus"/>).
    /// </summary>
    public const string LibraryMessageTooLarge = "Received message exceeds the maximum configured message size.";

    /// <summary>The phrase gRPC's other servers use ("larger than max"), the limit, and the setting that raises it.</summary>
    public static string MessageTooLarge(int limit) =>
        $"Received message larger than max: the limit is {limit} bytes (server.grpc-max-message).";
}
