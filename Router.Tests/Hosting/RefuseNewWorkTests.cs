using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Router.Actors.Config;
using Router.Gateway.Hosting;

namespace Router.Tests.Hosting;

/// <summary>What a request that arrives once the daemon is stopping gets, on each protocol.</summary>
public sealed class RefuseNewWorkTests
{
    [Theory]
    [InlineData("HTTP/1.1", "application/json", 503, "close")]
    [InlineData("HTTP/2", "application/grpc", 200, "")]
    [InlineData("HTTP/2", "application/grpc+proto", 200, "")]
    public async Task Stopping_NewRequest_RefusedInItsProtocol_ConnectionHeaderOnlyOnHttp1(string protocol, string contentType, int status, string connection)
    {
        using var lifetime = new StoppingLifetime();
        using var drain = new ShutdownDrain(lifetime, ConfigLoader.LoadDefault(), TimeProvider.System);
        var context = new DefaultHttpContext();
        context.Request.Protocol = protocol;
        context.Request.Path = "/v1/chat/completions";
        context.Request.ContentType = contentType;
        context.Response.Body = new MemoryStream();
        var reached = false;

        await RouterHost.RefuseNewWorkWhileStopping(drain)(context, _ =>
        {
            reached = true;
            return Task.CompletedTask;
        });

        Assert.False(reached);
        Assert.Equal(status, context.Response.StatusCode);
        // HTTP/2 forbids connection-specific headers: Kestrel strips one with a warning per call.
        Assert.Equal(connection, context.Response.Headers.Connection.ToString());
        if (contentType.StartsWith("application/grpc", StringComparison.Ordinal))
        {
            Assert.Equal("14", context.Response.Headers["grpc-status"].ToString());
        }
    }

    /// <summary>A host that has begun to stop.</summary>
    private sealed class StoppingLifetime : IHostApplicationLifetime, IDisposable
    {
        private readonly CancellationTokenSource _stopping = new();

        public StoppingLifetime() => _stopping.Cancel();

        public CancellationToken ApplicationStarted => CancellationToken.None;
        public CancellationToken ApplicationStopping => _stopping.Token;
        public CancellationToken ApplicationStopped => CancellationToken.None;

        public void StopApplication()
        {
        }

        public void Dispose() => _stopping.Dispose();
    }
}
