namespace Router.Gateway.Grpc;

/// <summary>Limits of the gRPC server. Immutable; the host builds it once from RouterConfig.Server.</summary>
public sealed record GrpcServerOptions
{
    /// <summary>Largest request message, compressed or inflated; larger → RESOURCE_EXHAUSTED.</summary>
    public int MaxReceiveMessageSize { get; init; } = 4 * 1024 * 1024;
    /// <summary>Largest response message; larger → RESOURCE_EXHAUSTED.</summary>
    public int MaxSendMessageSize { get; init; } = 4 * 1024 * 1024;
    /// <summary>How often EfficiencyService.WatchState re-reads the system state.</summary>
    public TimeSpan SystemStatePollInterval { get; init; } = TimeSpan.FromSeconds(1);
}
