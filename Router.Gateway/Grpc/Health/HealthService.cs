using Router.Gateway.Grpc.Contracts.Health;
using ServingStatus = Router.Gateway.Grpc.Contracts.Health.HealthCheckResponse.Types.ServingStatus;

namespace Router.Gateway.Grpc.Health;

/// <summary>grpc.health.v1.Health over a <see cref="HealthStatusTracker"/>.</summary>
internal sealed class HealthService(HealthStatusTracker tracker)
{
    public void Register(GrpcServiceRegistry registry)
    {
        var service = HealthReflection.Descriptor.Services[0];
        registry.AddUnary<HealthCheckRequest, HealthCheckResponse>(service.FindMethodByName("Check"), CheckAsync);
        registry.AddServerStreaming<HealthCheckRequest, HealthCheckResponse>(service.FindMethodByName("Watch"), WatchAsync);
    }

    /// <summary>"If the service is not registered, the server should respond with NOT_FOUND."</summary>
    public ValueTask<HealthCheckResponse> CheckAsync(HealthCheckRequest request, GrpcCallContext context) =>
        tracker.GetStatus(request.Service) is { } status
            ? ValueTask.FromResult(new HealthCheckResponse { Status = status })
            : throw new GrpcStatusException(GrpcStatusCode.NotFound, $"Unknown service '{request.Service}'.");

    /// <summary>
    /// The status now, then every change, until the client cancels. An unknown service gets
    /// SERVICE_UNKNOWN and the stream stays open, as the spec asks: it may become known later.
    /// </summary>
    public async ValueTask WatchAsync(HealthCheckRequest request, IGrpcStreamWriter<HealthCheckResponse> responses, GrpcCallContext context)
    {
        var token = context.CancellationToken;
        using var watcher = tracker.Watch(request.Service);
        var last = tracker.GetStatus(request.Service) ?? ServingStatus.ServiceUnknown;
        await responses.WriteAsync(new HealthCheckResponse { Status = last }, token).ConfigureAwait(false);

        while (await watcher.Channel.Reader.WaitToReadAsync(token).ConfigureAwait(false))
        {
            while (watcher.Channel.Reader.TryRead(out var status))
            {
                if (status != last)
                {
                    last = status;
                    await responses.WriteAsync(new HealthCheckResponse { Status = status }, token).ConfigureAwait(false);
                }
            }
        }
    }
}
