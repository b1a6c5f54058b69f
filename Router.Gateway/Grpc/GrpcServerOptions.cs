using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Router.Gateway.Grpc;

/// <summary>Limits of the gRPC server. Immutable; the host builds it once from RouterConfig.Server.</summary>
public sealed record GrpcServerOptions
{
    /// <summary>Largest request message, compressed or inflated; larger → RESOURCE_EXHAUSTED.</summary>
    public int MaxReceiveMessageSize { get; init; } = 4 * 1024 * 1024;
    /// <summary>Largest response message; larger → RESOURCE_EXHAUSTED.</summary>
    public int MaxSendMessageSize { get; init; } = 4 * 1024 * 1024;
    /// <summary>How often EfficiencyGrpcService.WatchState re-reads the system state.</summary>
    public TimeSpan SystemStatePollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long the request message of a unary or server-streaming call may take to start arriving
    /// before the call is reset. It then has to keep coming at <see cref="MinRequestBytesPerSecond"/>.
    /// Without it a client that opens a call and never sends its message holds the stream forever.
    /// Kestrel measures the rate over the whole HTTP/2 connection and closes the connection when it
    /// is not met; gRPC clients send a call's message with its headers, so only a broken or hostile
    /// client is cut off. Kestrel checks once a second, so this must be longer than a second.
    /// </summary>
    public TimeSpan RequestMessageGracePeriod { get; init; } = TimeSpan.FromSeconds(10);
    public double MinRequestBytesPerSecond { get; init; } = 240;

    /// <summary>
    /// An HTTP/2 PING on a connection that sent nothing for this long; one left unanswered for
    /// <see cref="KeepAlivePingTimeout"/> closes the connection and ends its calls. Watch streams and
    /// reflection streams are quiet by design, so this is what frees them when a client vanishes
    /// without closing its socket (a suspended laptop, a dropped network).
    /// </summary>
    public TimeSpan KeepAlivePingDelay { get; init; } = TimeSpan.FromSeconds(60);
    public TimeSpan KeepAlivePingTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Sets Kestrel's limits for the gRPC listener.</summary>
    public void ApplyTo(KestrelServerOptions kestrel)
    {
        ArgumentNullException.ThrowIfNull(kestrel);
        kestrel.Limits.MinRequestBodyDataRate = new MinDataRate(MinRequestBytesPerSecond, RequestMessageGracePeriod);
        kestrel.Limits.Http2.KeepAlivePingDelay = KeepAlivePingDelay;
        kestrel.Limits.Http2.KeepAlivePingTimeout = KeepAlivePingTimeout;
    }
}
