using System.Text;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http;
using Router.Actors.Backends;
using Router.Actors.Fleet;
using Router.Actors.Routing;
using Router.Tests.Backends;

namespace Router.Tests.Fleet;

/// <summary>
/// The client of another fleet node's backend, against a loopback server that plays the peer:
/// what it sends, and how a lost node or a refusing peer reads to the router.
/// </summary>
public sealed class ForwardingClientTests
{
    private const string Secret = "forwarding-test-secret";
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    private static ForwardingClient Client(Uri endpoint) =>
        new("node-b/ollama-npu", "node-b", "ollama-npu", "ollama", endpoint, Secret, TimeProvider.System);

    private static BackendRequest Generate(bool stream, RoutingHints? hints = null) =>
        new(BackendApi.OllamaGenerate, Encoding.UTF8.GetBytes("""{"model":"m","prompt":"hi"}"""), stream) { Hints = hints };

    [Fact]
    public async Task Send_SamePathAndBody_WithTargetHopSecretAndPriority()
    {
        Dictionary<string, string>? seen = null;
        string? path = null, body = null;
        await using var peer = await ScriptedServer.StartAsync(async context =>
        {
            // Copied: the server reuses its header collection once the request is over.
            seen = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            path = context.Request.Path;
            body = await new StreamReader(context.Request.Body).ReadToEndAsync();
            await context.Response.WriteAsync("""{"model":"m","response":"ok","done":true}""");
        });
        using var client = Client(peer.Endpoint);

        var result = await client.SendAsync(Generate(stream: false, RoutingHints.Default with { Priority = Priority.Critical, RequestId = "r-1" }), CancellationToken.None);

        Assert.True(result.IsOk, result.IsOk ? "" : result.Error.Message);
        Assert.Equal("/api/generate", path);
        Assert.Equal("""{"model":"m","prompt":"hi"}""", body);
        Assert.Equal("ollama-npu", seen!["X-Target-Backend"]);
        Assert.Equal("1", seen[FleetHeaders.Hop]);
        Assert.Equal(Secret, seen[FleetHeaders.Secret]);
        Assert.Equal("3", seen["X-Priority"]);
        Assert.Equal("r-1", seen["X-Request-ID"]);
    }

    [Fact]
    public async Task Send_PeerQueueFull_IsWorthTryingElsewhere()
    {
        await using var peer = await ScriptedServer.StartAsync(async context =>
        {
            context.Response.StatusCode = 429;
            await context.Response.WriteAsync("""{"error":"queue full at priority normal on backend 'ollama-npu' (64 waiting)"}""");
        });
        using var client = Client(peer.Endpoint);

        var result = await client.SendAsync(Generate(stream: false), CancellationToken.None);

        Assert.False(result.IsOk);
        Assert.True(result.Error.IsRetryable);
        Assert.Contains("node node-b refused: queue full", result.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stream_NodeLostMidAnswer_EndsWithBrokenStreamNamingTheNode()
    {
        var firstWritten = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var peer = await ScriptedServer.StartAsync(async context =>
        {
            context.Response.ContentType = "application/x-ndjson";
            await context.Response.WriteAsync("{\"response\":\"one\",\"done\":false}\n");
            await context.Response.Body.FlushAsync();
            firstWritten.TrySetResult();
            // A peer that went silent: the connection stays open, nothing more comes.
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        });
        using var client = Client(peer.Endpoint);
        var events = client.Stream(Generate(stream: true), CancellationToken.None);

        var first = await events.ReadAsync().AsTask().WaitAsync(Limit);
        await firstWritten.Task.WaitAsync(Limit);
        client.NodeLost("became unreachable");
        var last = await events.ReadAsync().AsTask().WaitAsync(Limit);

        Assert.IsType<StreamChunk>(first);
        var failed = Assert.IsType<StreamFailed>(last);
        Assert.Equal(BackendErrorKind.StreamBroken, failed.Error.Kind);
        Assert.Equal("node node-b became unreachable in the middle of the answer from node-b/ollama-npu", failed.Error.Message);
        Assert.False(await events.WaitToReadAsync().AsTask().WaitAsync(Limit));
    }

    [Fact]
    public async Task Stream_NodeLostBeforeFirstToken_FailsAsAConnectionSoTheRouterFallsBack()
    {
        await using var peer = await ScriptedServer.StartAsync(async context => await Task.Delay(Timeout.Infinite, context.RequestAborted));
        using var client = Client(peer.Endpoint);
        var events = client.Stream(Generate(stream: true), CancellationToken.None);

        client.NodeLost("left the fleet");
        var only = await events.ReadAsync().AsTask().WaitAsync(Limit);

        var failed = Assert.IsType<StreamFailed>(only);
        Assert.Equal(BackendErrorKind.ConnectFailed, failed.Error.Kind);
        Assert.True(failed.Error.IsRetryable);
        Assert.Contains("node node-b left the fleet before node-b/ollama-npu answered", failed.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stream_CallerCancels_IsACancellationNotAFailure()
    {
        await using var peer = await ScriptedServer.StartAsync(async context => await Task.Delay(Timeout.Infinite, context.RequestAborted));
        using var client = Client(peer.Endpoint);
        using var caller = new CancellationTokenSource();
        var events = client.Stream(Generate(stream: true), caller.Token);

        await caller.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => events.ReadAsync().AsTask().WaitAsync(Limit));
    }

    [Theory]
    [InlineData("ollama", BackendApi.OllamaChat, true)]
    [InlineData("ollama", BackendApi.OpenAIChatCompletions, true)]
    [InlineData("openai", BackendApi.OpenAIChatCompletions, true)]
    [InlineData("openai", BackendApi.OllamaChat, false)]
    public void Supports_WhatTheOwnersBackendTypeServes(string type, BackendApi api, bool expected)
    {
        using var client = new ForwardingClient("n/b", "n", "b", type, new Uri("http://127.0.0.1:1"), Secret, TimeProvider.System);

        Assert.Equal(expected, client.Supports(api));
    }
}
