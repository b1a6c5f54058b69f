namespace Router.Gateway.Grpc;

/// <summary>A call's outcome: the code and a message for the client (sent percent-encoded in grpc-message).</summary>
public readonly record struct GrpcStatus(GrpcStatusCode Code, string Detail)
{
    public static readonly GrpcStatus Ok = new(GrpcStatusCode.OK, "");
}

/// <summary>
/// Ends a call with a status. Handlers throw it for expected failures already mapped to a status;
/// anything else a handler throws becomes INTERNAL without its message.
/// </summary>
public sealed class GrpcStatusException : Exception
{
    public GrpcStatusException(GrpcStatusCode code, string detail)
        : base($"{code}: {detail}")
    {
        Status = new GrpcStatus(code, detail);
    }

    public GrpcStatusException(GrpcStatus status)
        : this(status.Code, status.Detail)
    {
    }

    public GrpcStatusException()
        : this(GrpcStatusCode.Unknown, "")
    {
    }

    public GrpcStatusException(string message)
        : this(GrpcStatusCode.Unknown, message)
    {
    }

    public GrpcStatusException(string message, Exception innerException)
        : base(message, innerException)
    {
        Status = new GrpcStatus(GrpcStatusCode.Unknown, message);
    }

    public GrpcStatus Status { get; }
    public GrpcStatusCode Code => Status.Code;
}
