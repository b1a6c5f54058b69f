using System.Net.Sockets;
using System.Text.Json;
using Router.Tests.Http.Fakes;
using static Router.Tests.Http.HttpTestKit;

namespace Router.Tests.Http;

/// <summary>The streaming path over real sockets: flushed per event, bounded by the client's pace, cancelled by its departure.</summary>
public sealed class StreamingPathTests : IAsyncLifetime
{
    private readonly FakeInferenceRouter _router = new();
    private HttpSurfaceHost _host = null!;

    public async Task InitializeAsync() => _host = await HttpSurfaceHost.StartAsync(_router, new FakeRouterAdmin());

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Theory]
    [InlineData("v1/chat/completions", """{"model":"gated","messages":[{"role":"user","content":"hi"}],"stream":true}""")]
    [InlineData("api/generate", """{"model":"gated","prompt":"hi"}""")]
    public async Task Stream_EachToken_ReachesClientBeforeTheNextIsProduced(string path, string body)
    {
        using var client = _host.CreateClient();
        using var response = await client.SendAsync(Post(path, body), HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var sse = path.StartsWith("v1", StringComparison.Ordinal);

        // The fake produces token i+1 only after the test has read token i off the socket: any
        // buffering on the way would leave the read waiting and the test timing out.
        var tokens = new List<string>();
        for (var i = 0; i < FakeInferenceRouter.Tokens.Count; i++)
        {
            var line = sse ? await NextSseDataAsync(reader) : await NextLineAsync(reader);
            using var chunk = JsonDocument.Parse(line!);
            tokens.Add(sse
                ? chunk.RootElement.GetProperty("choices")[0].GetProperty("delta").GetProperty("content").GetString()!
                : chunk.RootElement.GetProperty("response").GetString()!);
            _router.Gate.Release();
        }
        Assert.Equal(FakeInferenceRouter.Tokens, tokens);
        if (sse)
        {
            Assert.Equal("[DONE]", await NextSseDataAsync(reader));
        }
    }

    [Fact]
    public async Task Stream_ClientStopsReading_BackendIsHeldBackThenResumes()
    {
        // A small receive window on the client, so the kernel buffers do not hide what the router holds.
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 16 * 1024, NoDelay = true };
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        using var client = _host.CreateClient(handler);
        using var response = await client.SendAsync(Post("v1/chat/completions", """{"model":"flood","messages":[{"role":"user","content":"hi"}],"stream":true}"""), HttpCompletionOption.ResponseHeadersRead);
        var stream = await _router.FirstStream.Task.WaitAsync(Patience);

        var producedAtStall = await stream.Stalled.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // 2000 chunks of 16 KiB is 32 MiB: the producer stalls after a few MiB at most, so what
        // sits in memory is bounded by the channel and the socket buffers, not by the answer.
        Assert.True(producedAtStall < FakeInferenceRouter.FloodChunks / 2, $"produced {producedAtStall} of {FakeInferenceRouter.FloodChunks} before stalling");

        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var received = 0;
        string? data;
        while ((data = await NextSseDataAsync(reader)) is not null && data != "[DONE]")
        {
            using var chunk = JsonDocument.Parse(data);
            var choices = chunk.RootElement.GetProperty("choices");
            if (choices[0].GetProperty("delta").TryGetProperty("content", out var content))
            {
                Assert.StartsWith(received.ToString("D6", System.Globalization.CultureInfo.InvariantCulture), content.GetString(), StringComparison.Ordinal);
                received++;
            }
        }
        Assert.Equal("[DONE]", data);
        Assert.Equal(FakeInferenceRouter.FloodChunks, received);
    }

    [Theory]
    [InlineData("v1/chat/completions", """{"model":"endless","messages":[{"role":"user","content":"hi"}],"stream":true}""")]
    [InlineData("api/chat", """{"model":"endless","messages":[{"role":"user","content":"hi"}]}""")]
    public async Task Stream_ClientDisconnects_StreamDisposedAndBackendCallCancelled(string path, string body)
    {
        var client = _host.CreateClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 });
        var response = await client.SendAsync(Post(path, body), HttpCompletionOption.ResponseHeadersRead);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.NotNull(await NextLineAsync(reader));
        var stream = await _router.FirstStream.Task.WaitAsync(Patience);

        reader.Dispose();
        response.Dispose();
        client.Dispose();

        await stream.Disposed.Task.WaitAsync(Patience);
        await stream.BackendCallCancelled.Task.WaitAsync(Patience);
    }

    [Fact]
    public async Task OpenAIStream_FailsAfterStart_ErrorEventInSse()
    {
        using var client = _host.CreateClient();
        using var response = await client.SendAsync(Post("v1/chat/completions", """{"model":"breaks-midway","messages":[{"role":"user","content":"hi"}],"stream":true}"""), HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        var events = new List<string>();
        while (await NextSseDataAsync(reader) is { } data) events.Add(data);

        Assert.Equal(3, events.Count);
        using var error = JsonDocument.Parse(events[^1]);
        var body = error.RootElement.GetProperty("error");
        Assert.Contains("closed the connection mid-answer", body.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("server_error", body.GetProperty("type").GetString());
        Assert.DoesNotContain("[DONE]", events);
    }

    [Fact]
    public async Task OllamaStream_FailsAfterStart_ErrorLineInNdjson()
    {
        using var client = _host.CreateClient();
        using var response = await client.SendAsync(Post("api/chat", """{"model":"breaks-midway","messages":[{"role":"user","content":"hi"}]}"""), HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        var lines = new List<string>();
        while (await NextLineAsync(reader) is { } line) lines.Add(line);

        Assert.Equal(3, lines.Count);
        using var error = JsonDocument.Parse(lines[^1]);
        Assert.Contains("mid-answer", error.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
    }
}
