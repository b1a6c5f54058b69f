using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Router.Gateway.Http;
using Router.Tests.Http.Fakes;
using static Router.Tests.Http.HttpTestKit;

namespace Router.Tests.Http;

/// <summary>
/// Strings that are not Unicode text: bytes that are not UTF-8, or an escaped surrogate without its
/// pair (<c>"\ud800"</c>). JSON parsers accept both and fail only when the string is decoded; every
/// field the router reads must answer them with a 400 naming the field, never a 500, and on the
/// WebSocket with an error frame for that request alone.
/// </summary>
public sealed class InvalidTextTests : IAsyncLifetime
{
    /// <summary>A lone high surrogate, escaped: valid JSON, not valid text.</summary>
    private const string LoneSurrogate = "\\ud800";
    /// <summary>Marks where <see cref="Body"/> puts two bytes that are not UTF-8.</summary>
    private const string InvalidBytes = "<FF FE>";

    private readonly FakeInferenceRouter _router = new();
    private HttpSurfaceHost _host = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _host = await HttpSurfaceHost.StartAsync(_router, new FakeRouterAdmin());
        _client = _host.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _host.DisposeAsync();
    }

    /// <summary>The JSON text as UTF-8, with <see cref="InvalidBytes"/> replaced by 0xFF 0xFE.</summary>
    private static byte[] Body(string json)
    {
        var parts = json.Split(InvalidBytes);
        var bytes = new List<byte>();
        for (var i = 0; i < parts.Length; i++)
        {
            if (i > 0) bytes.AddRange([0xFF, 0xFE]);
            bytes.AddRange(Encoding.UTF8.GetBytes(parts[i]));
        }

        return [.. bytes];
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(string path, byte[] body)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await _client.PostAsync(path, content);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(text.Length > 0, $"{path}: {(int)response.StatusCode} with an empty body");
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    public static TheoryData<string, string, string> BadText()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var bad in new[] { LoneSurrogate, InvalidBytes })
        {
            data.Add("v1/chat/completions", $$$"""{"model":"llama{{{bad}}}","messages":[{"role":"user","content":"hi"}]}""", "model");
            data.Add("v1/embeddings", $$"""{"model":"nomic{{bad}}","input":"hi"}""", "model");
            data.Add("api/generate", $$"""{"model":"llama{{bad}}","prompt":"hi"}""", "model");
            data.Add("api/chat", $$"""{"model":"llama3.2","messages":[],"keep_alive":"0{{bad}}"}""", "keep_alive");
            data.Add("api/generate", $$$"""{"model":"llama3.2","prompt":"hi","options":{"temp{{{bad}}}":1}}""", "options");
            data.Add("api/show", $$"""{"model":"llama{{bad}}"}""", "model");
            data.Add("api/show", $$"""{"name":"llama{{bad}}"}""", "name");
            data.Add("efficiency", $$"""{"mode":"auto{{bad}}"}""", "mode");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(BadText))]
    public async Task Post_FieldNotUnicodeText_400NamingTheField(string path, string json, string field)
    {
        var (status, body) = await PostAsync(path, Body(json));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        var message = path.StartsWith("api/", StringComparison.Ordinal)
            ? body.GetProperty("error").GetString()!
            : body.GetProperty("error").GetProperty("message").GetString()!;
        Assert.Contains($"'{field}'", message, StringComparison.Ordinal);
        Assert.Contains("UTF-8", message, StringComparison.Ordinal);
        Assert.Empty(_router.Requests);
    }

    public static TheoryData<string, string> BadNames()
    {
        var data = new TheoryData<string, string>();
        foreach (var bad in new[] { LoneSurrogate, InvalidBytes })
        {
            data.Add("v1/chat/completions", $$$"""{"model{{{bad}}}":"x","model":"llama3.2","messages":[{"role":"user","content":"hi"}]}""");
            data.Add("v1/completions", $$"""{"{{bad}}":1,"model":"llama3.2","prompt":"hi"}""");
            data.Add("v1/embeddings", $$"""{"model":"nomic","input":"hi","dimensions{{bad}}":5}""");
            data.Add("api/generate", $$"""{"model":"llama3.2","prompt":"hi","{{bad}}":true}""");
            data.Add("api/chat", $$$"""{"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"stream{{{bad}}}":false}""");
            data.Add("api/embed", $$"""{"{{bad}}model":"nomic","model":"nomic","input":"hi"}""");
            data.Add("api/show", $$"""{"model{{bad}}":"llama3.2"}""");
            data.Add("efficiency", $$"""{"{{bad}}":1}""");
            data.Add("efficiency", $$"""{"mode{{bad}}":"auto","mode":"auto"}""");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(BadNames))]
    public async Task Post_NameNotUnicodeText_400SayingSo(string path, string json)
    {
        var (status, body) = await PostAsync(path, Body(json));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        var message = path.StartsWith("api/", StringComparison.Ordinal)
            ? body.GetProperty("error").GetString()!
            : body.GetProperty("error").GetProperty("message").GetString()!;
        Assert.Contains("name", message, StringComparison.Ordinal);
        Assert.Contains("UTF-8", message, StringComparison.Ordinal);
        Assert.Empty(_router.Requests);
    }

    [Fact]
    public async Task Socket_NameNotUnicodeText_ErrorFrameForThatRequestOthersGoOn()
    {
        using var socket = await ConnectAsync();
        await socket.SendAsync(Encoding.UTF8.GetBytes("""{"request_id":"a","model":"slow","prompt":"go"}"""), WebSocketMessageType.Text, true, CancellationToken.None);
        Assert.True((await ReceiveAsync(socket))!.Value.TryGetProperty("token", out _));

        await socket.SendAsync(Body($$"""{"request_id":"b","model":"llama3.2","prompt":"go","{{LoneSurrogate}}":1}"""), WebSocketMessageType.Text, true, CancellationToken.None);
        JsonElement error;
        do error = (await ReceiveAsync(socket)) ?? throw new Xunit.Sdk.XunitException($"the socket closed: {socket.CloseStatus} {socket.CloseStatusDescription}");
        while (!error.TryGetProperty("error", out _));

        Assert.Equal("b", error.GetProperty("request_id").GetString());
        Assert.Equal(400, error.GetProperty("code").GetInt32());
        Assert.Contains("UTF-8", error.GetProperty("error").GetString()!, StringComparison.Ordinal);
        JsonElement next;
        do next = (await ReceiveAsync(socket))!.Value;
        while (next.GetProperty("request_id").GetString() != "a");
        Assert.True(next.TryGetProperty("token", out _));
        Assert.Equal(WebSocketState.Open, socket.State);
    }

    [Fact]
    public async Task Post_ContentWithLoneSurrogate_PassedOnAsItCame()
    {
        // The router does not read the conversation: it goes to the backend untouched, which
        // decides (Ollama reads a lone surrogate as U+FFFD).
        var body = Body($$$"""{"model":"llama3.2","messages":[{"role":"user","content":"hi {{{LoneSurrogate}}}"}]}""");

        var (status, _) = await PostAsync("v1/chat/completions", body);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(body, Assert.Single(_router.Requests).Native.Body.ToArray());
    }

    private async Task<ClientWebSocket> ConnectAsync()
    {
        var socket = new ClientWebSocket();
        using var timeout = new CancellationTokenSource(Patience);
        await socket.ConnectAsync(_host.WebSocketUri(HttpSurfaces.StreamSocketPath), timeout.Token);
        return socket;
    }

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

    // Only escapes here: a text frame whose bytes are not UTF-8 fails the whole connection with
    // 1007 in the WebSocket layer, before the router reads it (RFC 6455 §8.1).
    public static TheoryData<string, string> BadFrames() => new()
    {
        { $$"""{"request_id":"b","model":"llama{{LoneSurrogate}}","prompt":"go"}""", "model" },
        { $$"""{"request_id":"b","model":"llama3.2","prompt":"go{{LoneSurrogate}}"}""", "prompt" },
        { $$"""{"request_id":"b","model":"llama3.2","prompt":"go","target":"npu{{LoneSurrogate}}"}""", "target" },
        { $$"""{"request_id":"b","model":"llama3.2","prompt":"go","priority":"high{{LoneSurrogate}}"}""", "priority" },
        { $$$"""{"request_id":"b","model":"llama3.2","prompt":"go","options":{"temp{{{LoneSurrogate}}}":1}}""", "options" },
    };

    [Theory]
    [MemberData(nameof(BadFrames))]
    public async Task Socket_FieldNotUnicodeText_ErrorFrameForThatRequestOthersGoOn(string frame, string field)
    {
        using var socket = await ConnectAsync();
        await socket.SendAsync(Encoding.UTF8.GetBytes("""{"request_id":"a","model":"slow","prompt":"go"}"""), WebSocketMessageType.Text, true, CancellationToken.None);
        Assert.True((await ReceiveAsync(socket))!.Value.TryGetProperty("token", out _));

        await socket.SendAsync(Body(frame), WebSocketMessageType.Text, true, CancellationToken.None);
        JsonElement error;
        do error = (await ReceiveAsync(socket)) ?? throw new Xunit.Sdk.XunitException($"the socket closed: {socket.CloseStatus} {socket.CloseStatusDescription}");
        while (!error.TryGetProperty("error", out _));

        Assert.Equal("b", error.GetProperty("request_id").GetString());
        Assert.Equal(400, error.GetProperty("code").GetInt32());
        Assert.Contains($"'{field}'", error.GetProperty("error").GetString()!, StringComparison.Ordinal);
        // The stream already running on the socket goes on.
        JsonElement next;
        do next = (await ReceiveAsync(socket))!.Value;
        while (next.GetProperty("request_id").GetString() != "a");
        Assert.True(next.TryGetProperty("token", out _));
        Assert.Equal(WebSocketState.Open, socket.State);
    }
}
