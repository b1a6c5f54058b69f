using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Router.Actors.Backends;
using Router.Actors.Routing;
using Router.Gateway.Http;
using Router.Gateway.Http.WebSockets;
using Router.Tests.Http.Fakes;
using static Router.Tests.Http.HttpTestKit;

namespace Router.Tests.Http;

public sealed class StreamSocketTests : IAsyncLifetime
{
    private readonly FakeInferenceRouter _router = new();
    private HttpSurfaceHost _host = null!;

    public async Task InitializeAsync() => _host = await HttpSurfaceHost.StartAsync(_router, new FakeRouterAdmin());

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private async Task<ClientWebSocket> ConnectAsync()
    {
        var socket = new ClientWebSocket();
        using var timeout = new CancellationTokenSource(Patience);
        await socket.ConnectAsync(_host.WebSocketUri(HttpSurfaces.StreamSocketPath), timeout.Token);
        return socket;
    }

    private static Task SendAsync(ClientWebSocket socket, string json) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text, true, CancellationToken.None);

    private static async Task<JsonElement?> ReceiveAsync(ClientWebSocket socket)
    {
        using var timeout = new CancellationTokenSource(Patience);
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, timeout.Token);
            if (result.MessageType == WebSocketMessageType.Close) return null;
            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage) return JsonDocument.Parse(message.ToArray()).RootElement.Clone();
        }
    }

    [Fact]
    public async Task Socket_ClientGoesAway_EveryRequestOnItIsCancelled()
    {
        var socket = await ConnectAsync();
        await SendAsync(socket, """{"request_id":"a","model":"slow","prompt":"go"}""");
        Assert.True((await ReceiveAsync(socket))!.Value.TryGetProperty("token", out _));
        var stream = await _router.FirstStream.Task.WaitAsync(Patience);

        socket.Abort();
        socket.Dispose();

        await stream.Disposed.Task.WaitAsync(Patience);
        await stream.BackendCallCancelled.Task.WaitAsync(Patience);
    }

    [Fact]
    public async Task Socket_ClientCloses_RequestsCancelledAndCloseAnswered()
    {
        using var socket = await ConnectAsync();
        await SendAsync(socket, """{"request_id":"a","model":"slow","prompt":"go"}""");
        await ReceiveAsync(socket);
        var stream = await _router.FirstStream.Task.WaitAsync(Patience);

        using var timeout = new CancellationTokenSource(Patience);
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
        while (await ReceiveAsync(socket) is not null)
        {
            // Tokens already in flight before the close.
        }

        await stream.Disposed.Task.WaitAsync(Patience);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
    }

    [Fact]
    public async Task Socket_DuplicateRequestIdInFlight_ErrorFrame409()
    {
        using var socket = await ConnectAsync();
        await SendAsync(socket, """{"request_id":"same","model":"slow","prompt":"go"}""");
        await ReceiveAsync(socket);
        await SendAsync(socket, """{"request_id":"same","model":"llama3.2","prompt":"go"}""");

        JsonElement frame;
        do frame = (await ReceiveAsync(socket))!.Value;
        while (!frame.TryGetProperty("error", out _));

        Assert.Equal(409, frame.GetProperty("code").GetInt32());
        Assert.Equal("same", frame.GetProperty("request_id").GetString());
    }

    [Fact]
    public async Task Socket_RouterRefusesWithRetry_ErrorFrameCarriesRetryAfter()
    {
        using var socket = await ConnectAsync();
        await SendAsync(socket, """{"request_id":"q","model":"busy","prompt":"go"}""");

        var frame = (await ReceiveAsync(socket))!.Value;

        Assert.Equal(429, frame.GetProperty("code").GetInt32());
        Assert.Equal("queue_full", frame.GetProperty("type").GetString());
        Assert.Equal(2000, frame.GetProperty("retry_after_ms").GetDouble());
        Assert.Equal(WebSocketState.Open, socket.State);
    }

    [Fact]
    public async Task Socket_RouterThrows_ErrorFrame500AndSocketStaysUsable()
    {
        using var socket = await ConnectAsync();
        await SendAsync(socket, """{"request_id":"bug","model":"router-bug","prompt":"go"}""");

        var frame = (await ReceiveAsync(socket))!.Value;
        await SendAsync(socket, """{"request_id":"fine","model":"llama3.2","prompt":"go"}""");
        JsonElement last;
        do last = (await ReceiveAsync(socket))!.Value;
        while (!last.TryGetProperty("done", out _));

        Assert.Equal(500, frame.GetProperty("code").GetInt32());
        Assert.Equal("fine", last.GetProperty("request_id").GetString());
    }

    [Fact]
    public async Task Socket_HintFields_ReachTheRouter()
    {
        using var socket = await ConnectAsync();
        await SendAsync(socket, """{"request_id":"h","model":"llama3.2","prompt":"go","priority":3,"max_latency_ms":700,"max_power_watts":"20","power_efficient":1,"media_type":"voice"}""");
        while ((await ReceiveAsync(socket))!.Value.TryGetProperty("token", out _))
        {
        }

        var hints = Assert.Single(_router.Requests).Hints;
        Assert.Equal(Priority.Critical, hints.Priority);
        Assert.Equal(700, hints.MaxLatencyMs);
        Assert.Equal(20, hints.MaxPowerWatts);
        Assert.True(hints.PreferPowerEfficiency);
        Assert.Equal("voice", hints.MediaType);
        Assert.Equal("h", hints.RequestId);
    }

    [Fact]
    public void Build_Messages_OllamaChatAndOpenAIChatBodies()
    {
        var parsed = StreamFrames.Parse(Encoding.UTF8.GetBytes(
            """{"request_id":"r","model":"llama3.2","messages":[{"role":"user","content":"hi"}],"options":{"num_predict":64,"temperature":0.3,"num_ctx":4096}}"""));

        var request = parsed.Request!.ToInferenceRequest();

        Assert.Equal(BackendApi.OllamaChat, request.Native.Api);
        Assert.True(request.Native.Stream);
        Assert.Equal("""{"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"stream":true,"options":{"num_predict":64,"temperature":0.3,"num_ctx":4096}}""",
            Encoding.UTF8.GetString(request.Native.Body.Span));
        Assert.Equal(BackendApi.OpenAIChatCompletions, request.OpenAI!.Api);
        Assert.Equal("""{"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true},"max_tokens":64,"temperature":0.3}""",
            Encoding.UTF8.GetString(request.OpenAI.Body.Span));
        Assert.Equal(64, request.ExpectedTokens);
    }

    [Fact]
    public void Build_Prompt_OllamaGenerateAndOpenAICompletionsBodies()
    {
        var parsed = StreamFrames.Parse(Encoding.UTF8.GetBytes("""{"request_id":"r","model":"llama3.2","prompt":"Once \"upon\"","options":{"num_predict":-1}}"""));

        var request = parsed.Request!.ToInferenceRequest();

        Assert.Equal(BackendApi.OllamaGenerate, request.Native.Api);
        Assert.Equal("""{"model":"llama3.2","prompt":"Once \"upon\"","stream":true,"options":{"num_predict":-1}}""", Encoding.UTF8.GetString(request.Native.Body.Span));
        Assert.Equal(BackendApi.OpenAICompletions, request.OpenAI!.Api);
        Assert.DoesNotContain("max_tokens", Encoding.UTF8.GetString(request.OpenAI.Body.Span), StringComparison.Ordinal);
        Assert.Null(request.ExpectedTokens);
    }

    [Theory]
    [InlineData("not json", "Malformed")]
    [InlineData("[1,2]", "Malformed")]
    [InlineData("""{"model":"m","prompt":"p"}""", "Malformed")]
    [InlineData("""{"request_id":5,"model":"m","prompt":"p"}""", "Malformed")]
    [InlineData("""{"request_id":"","model":"m","prompt":"p"}""", "Malformed")]
    [InlineData("""{"request_id":"r","cancel":true}""", "Cancel")]
    [InlineData("""{"request_id":"r","model":"m","prompt":"p"}""", "Start")]
    [InlineData("""{"request_id":"r","model":"m","messages":[{"role":"user","content":"hi"}]}""", "Start")]
    [InlineData("""{"request_id":"r","model":"m","messages":[]}""", "Invalid")]
    [InlineData("""{"request_id":"r","model":"m","prompt":""}""", "Invalid")]
    [InlineData("""{"request_id":"r","prompt":"p"}""", "Invalid")]
    [InlineData("""{"request_id":"r","model":"m"}""", "Invalid")]
    [InlineData("""{"request_id":"r","model":"m","messages":"hi"}""", "Invalid")]
    [InlineData("""{"request_id":"r","model":"m","prompt":"p","max_latency_ms":0}""", "Invalid")]
    [InlineData("""{"request_id":"r","model":"m","prompt":"p","latency_critical":"sure"}""", "Invalid")]
    [InlineData("""{"request_id":"r","model":"m","prompt":"p","stream":"no"}""", "Invalid")]
    [InlineData("""{"request_id":"r","model":"m","prompt":"p","options":[1]}""", "Invalid")]
    [InlineData("""{"request_id":"r","model":"m","prompt":"p","options":{"stop":"\n"}}""", "Invalid")]
    [InlineData("""{"request_id":"r","model":"m","prompt":"p","options":{"stop":["\n"],"temperature":0}}""", "Start")]
    public void Parse_Frame_Kind(string json, string kind)
    {
        Assert.Equal(kind,  StreamFrames.Parse(Encoding.UTF8.GetBytes(json)).Kind.ToString());
    }

    [Theory]
    [InlineData("""{"request_id":"r","model":"m","messages":[]}""", "messages")]
    [InlineData("""{"request_id":"r","model":"m","prompt":""}""", "prompt")]
    public void Parse_EmptyConversationOrPrompt_ErrorNamesTheField(string json, string field)
    {
        // Passed on, an Ollama backend would treat it as a model load and stream no tokens.
        var parsed = StreamFrames.Parse(Encoding.UTF8.GetBytes(json));
        Assert.Equal("r", parsed.RequestId);
        Assert.Equal(400, parsed.Error!.Status);
        Assert.Equal(field, parsed.Error.Param);
        Assert.Contains("empty", parsed.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Frames_TextAsWritten_NotEscapedToAscii()
    {
        // Six bytes per letter for every non-English token, and \u0027 in every error that quotes a name.
        var token = Encoding.UTF8.GetString(new ResponseFrames("r").Token("héllo 世界 'x'", null).Span);
        var error = Encoding.UTF8.GetString(ResponseFrames.Error("r", HttpErrorMap.InvalidField("options.stop", "use an array")).Span);

        Assert.Contains("\"token\":\"héllo 世界 'x'\"", token, StringComparison.Ordinal);
        Assert.Contains("'options.stop' is invalid", error, StringComparison.Ordinal);
        Assert.Equal("héllo 世界 'x'", System.Text.Json.JsonDocument.Parse(token).RootElement.GetProperty("token").GetString());
    }
}
