using Router.Actors.Backends;
using Router.Actors.Inference;
using Router.Actors.Routing;

namespace Router.Gateway.Grpc.Services;

/// <summary>The one place where router and backend failures become gRPC statuses.</summary>
internal static class InferenceStatusMapper
{
    public static GrpcStatus ToStatus(InferenceError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        if (error.Route is { } route)
        {
            return ToStatus(route);
        }

        return error.Backend is { } backend
            ? ToStatus(backend)
            : new GrpcStatus(GrpcStatusCode.Unknown, error.Message);
    }

    public static GrpcStatus ToStatus(RouteFailure failure)
    {
        var code = failure.Kind switch
        {
            RouteFailureKind.UnknownTarget => GrpcStatusCode.InvalidArgument,
            RouteFailureKind.ModelNotAvailable => GrpcStatusCode.NotFound,
            RouteFailureKind.QueueFull => GrpcStatusCode.ResourceExhausted,
            _ => GrpcStatusCode.Unavailable,
        };
        var detail = failure.RetryAfter is { } retry
            ? $"{failure.Message} (retry after {Math.Ceiling(retry.TotalSeconds):0} s)"
            : failure.Message;
        return new GrpcStatus(code, detail);
    }

    /// <summary>A retryable backend failure is UNAVAILABLE; a 4xx is the client's mistake: INVALID_ARGUMENT.</summary>
    public static GrpcStatus ToStatus(BackendError error)
    {
        if (error.Kind == BackendErrorKind.HttpStatus && error.StatusCode is >= 400 and < 500)
        {
            return new GrpcStatus(GrpcStatusCode.InvalidArgument, $"The backend rejected the request ({error.StatusCode}): {error.Message}");
        }

        return new GrpcStatus(GrpcStatusCode.Unavailable, $"Backend failed: {error.Message}");
    }

    public static GrpcStatusException ToException(InferenceError error) => new(ToStatus(error));
}
