using System.Net;
using System.Text.Json;
using Router.Actors.Config;
using Router.Tests.Http.Fakes;
using static Router.Tests.Http.HttpTestKit;

namespace Router.Tests.Http;

/// <summary>Every failure a client can meet, in its own protocol's format, with the status that says what to do.</summary>
public sealed class ErrorResponseTests : IAsyncLifetime
{
    private const int BodyLimit = 4096;
    private readonly FakeInferenceRouter _router = new();
    private HttpSurfaceHost _host = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _host = await HttpSurfaceHost.StartAsync(_router, new FakeRouterAdmin(), new RouterConfig { Server = new ServerConfig { MaxRequestBodyBytes = BodyLimit } });
        _client = _host.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _host.DisposeAsync();
    }

    private async Task<(int Status, JsonElement Error, HttpResponseMessage Response)> OpenAIAsync(HttpRequestMessage request)
    {
        var response = await _client.SendAsync(request);
        Assert.Equal("application/json", ContentType(response)!.MediaType);
        var error = (await JsonAsync(response)).GetProperty("error");
        Assert.Equal(JsonValueKind.Object, error.ValueKind);
        Assert.True(error.TryGetProperty("type", out _));
        Assert.True(error.TryGetProperty("param", out _));
        Assert.True(error.TryGetProperty("code", out _));
        return ((int)response.StatusCode, error, response);
    }

    private async Task<(int Status, string Message, HttpResponseMessage Response)> OllamaAsync(HttpRequestMessage request)
    {
        var response = await _client.SendAsync(request);
        Assert.Equal("application/json", ContentType(response)!.MediaType);
        var error = (await JsonAsync(response)).GetProperty("error");
        Assert.Equal(JsonValueKind.String, error.ValueKind);
        return ((int)response.StatusCode, error.GetString()!, response);
    }

    [Theory]
    [InlineData("v1/chat/completions")]
    [InlineData("v1/completions")]
    [InlineData("v1/embeddings")]
    public async Task OpenAI_MalformedJson_400(string path)
    {
        var (status, error, _) = await OpenAIAsync(Post(path, """{"model": "llama3.2", "messages": [}"""));

        Assert.Equal(400, status);
        Assert.Equal("invalid_json", error.GetProperty("code").GetString());
        Assert.Contains("not valid JSON", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty(_router.Requests);
    }

    [Theory]
    [InlineData("api/chat")]
    [InlineData("api/generate")]
    [InlineData("api/embed")]
    [InlineData("api/embeddings")]
    public async Task Ollama_MalformedJson_400(string path)
    {
        var (status, message, _) = await OllamaAsync(Post(path, "model=llama3.2"));

        Assert.Equal(400, status);
        Assert.Contains("not valid JSON", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("v1/chat/completions", """{"messages":[{"role":"user","content":"hi"}]}""", "model")]
    [InlineData("v1/chat/completions", """{"model":"llama3.2"}""", "messages")]
    [InlineData("v1/completions", """{"model":"llama3.2"}""", "prompt")]
    [InlineData("v1/embeddings", """{"model":"nomic-embed-text"}""", "input")]
    [InlineData("v1/chat/completions", """{"model":"","messages":[{"role":"user","content":"hi"}]}""", "model")]
    public async Task OpenAI_MissingField_400NamingIt(string path, string body, string field)
    {
        var (status, error, _) = await OpenAIAsync(Post(path, body));

        Assert.Equal(400, status);
        Assert.Equal(field, error.GetProperty("param").GetString());
        Assert.Contains($"'{field}' is required", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("api/generate", """{"prompt":"hi"}""", "model")]
    [InlineData("api/embed", """{"model":"nomic-embed-text"}""", "input")]
    [InlineData("api/embeddings", """{"model":"nomic-embed-text"}""", "prompt")]
    public async Task Ollama_MissingField_400NamingIt(string path, string body, string field)
    {
        var (status, message, _) = await OllamaAsync(Post(path, body));

        Assert.Equal(400, status);
        Assert.Contains($"'{field}' is required", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenAI_StreamNotBoolean_400NamingStream()
    {
        var (status, error, _) = await OpenAIAsync(Post("v1/chat/completions", """{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":"yes"}"""));

        Assert.Equal(400, status);
        Assert.Equal("stream", error.GetProperty("param").GetString());
    }

    [Theory]
    [InlineData("X-Priority", "urgent", "best-effort, normal, high, critical, or 0-3")]
    [InlineData("X-Max-Latency-Ms", "-1", "positive whole number")]
    [InlineData("X-Latency-Critical", "maybe", "true, false, 1 or 0")]
    public async Task OpenAI_InvalidHintHeader_400NamingHeaderAndValidValues(string header, string value, string valid)
    {
        var (status, error, _) = await OpenAIAsync(Post("v1/chat/completions", """{"model":"llama3.2","messages":[{"role":"user","content":"hi"}]}""", (header, value)));

        Assert.Equal(400, status);
        Assert.Equal(header, error.GetProperty("param").GetString());
        Assert.Contains(header, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains(valid, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty(_router.Requests);
    }

    [Fact]
    public async Task Ollama_InvalidHintHeader_400NamingHeader()
    {
        var (status, message, _) = await OllamaAsync(Post("api/chat", """{"model":"llama3.2","messages":[{"role":"user","content":"hi"}]}""", ("X-Max-Power-Watts", "lots")));

        Assert.Equal(400, status);
        Assert.Contains("X-Max-Power-Watts", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenAI_UnknownTarget_400ListingKnownBackends()
    {
        var (status, error, _) = await OpenAIAsync(Post("v1/chat/completions", """{"model":"llama3.2","messages":[{"role":"user","content":"hi"}]}""", ("X-Target-Backend", "tpu")));

        Assert.Equal(400, status);
        Assert.Equal("unknown_target", error.GetProperty("code").GetString());
        Assert.Contains("ollama-npu, ollama-igpu, ollama-nvidia, ollama-cpu", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ollama_UnknownTarget_400ListingKnownBackends()
    {
        var (status, message, _) = await OllamaAsync(Post("api/generate", """{"model":"llama3.2","prompt":"hi"}""", ("X-Target-Backend", "tpu")));

        Assert.Equal(400, status);
        Assert.Contains("ollama-npu", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task OpenAI_ModelOnNoHealthyBackend_404(bool stream)
    {
        var (status, error, _) = await OpenAIAsync(Post("v1/chat/completions", $$"""{"model":"missing-model","messages":[{"role":"user","content":"hi"}],"stream":{{(stream ? "true" : "false")}}}"""));

        Assert.Equal(404, status);
        Assert.Equal("model_not_found", error.GetProperty("code").GetString());
        Assert.Contains("ollama pull missing-model", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ollama_ModelOnNoHealthyBackend_404()
    {
        var (status, message, _) = await OllamaAsync(Post("api/chat", """{"model":"missing-model","messages":[{"role":"user","content":"hi"}]}"""));

        Assert.Equal(404, status);
        Assert.Contains("missing-model", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenAI_BodyOverLimit_413()
    {
        var big = "{\"model\":\"llama3.2\",\"messages\":[{\"role\":\"user\",\"content\":\"" + new string('x', BodyLimit) + "\"}]}";

        var (status, error, _) = await OpenAIAsync(Post("v1/chat/completions", big));

        Assert.Equal(413, status);
        Assert.Contains($"{BodyLimit} bytes", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty(_router.Requests);
    }

    [Fact]
    public async Task Ollama_ChunkedBodyOverLimit_413()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "api/generate")
        {
            // No Content-Length: the limit is enforced while reading, not only from the header.
            Content = new StreamContent(new MemoryStream(System.Text.Encoding.UTF8.GetBytes("{\"model\":\"llama3.2\",\"prompt\":\"" + new string('x', BodyLimit * 3) + "\"}"))),
        };
        request.Headers.TransferEncodingChunked = true;

        var (status, message, _) = await OllamaAsync(request);

        Assert.Equal(413, status);
        Assert.Contains("limit", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("hot", 503, "30")]
    [InlineData("nothing-healthy", 503, "5")]
    [InlineData("busy", 429, "2")]
    public async Task OpenAI_NothingCanServe_StatusWithRetryAfter(string model, int expected, string retryAfter)
    {
        var (status, _, response) = await OpenAIAsync(Post("v1/chat/completions", $$"""{"model":"{{model}}","messages":[{"role":"user","content":"hi"}]}"""));

        Assert.Equal(expected, status);
        Assert.Equal(retryAfter, Header(response, "Retry-After"));
        response.Dispose();
    }

    [Fact]
    public async Task OpenAI_PowerBudgetTooLow_503WithRetryAfter()
    {
        var (status, error, response) = await OpenAIAsync(Post("v1/chat/completions", """{"model":"llama3.2","messages":[{"role":"user","content":"hi"}]}""", ("X-Max-Power-Watts", "1")));

        Assert.Equal(503, status);
        Assert.Equal("power_budget_exceeded", error.GetProperty("code").GetString());
        Assert.NotNull(Header(response, "Retry-After"));
        response.Dispose();
    }

    [Fact]
    public async Task Ollama_QueueFull_429WithRetryAfter()
    {
        var (status, _, response) = await OllamaAsync(Post("api/generate", """{"model":"busy","prompt":"hi"}"""));

        Assert.Equal(429, status);
        Assert.Equal("2", Header(response, "Retry-After"));
        response.Dispose();
    }

    [Fact]
    public async Task Ollama_Backend400_SameStatusWithBackendsMessage()
    {
        var (status, message, _) = await OllamaAsync(Post("api/generate", """{"model":"backend-rejects","prompt":"hi","stream":false}"""));

        Assert.Equal(400, status);
        Assert.Equal("invalid 'options.num_ctx': must be a positive integer", message);
    }

    [Fact]
    public async Task OpenAI_BackendDown_502WithMessage()
    {
        var (status, error, _) = await OpenAIAsync(Post("v1/chat/completions", """{"model":"backend-down","messages":[{"role":"user","content":"hi"}]}"""));

        Assert.Equal(502, status);
        Assert.Contains("refused the connection", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GET", "v1/chat/completions", "POST")]
    [InlineData("PUT", "v1/models", "GET")]
    [InlineData("DELETE", "efficiency", "GET, POST")]
    public async Task WrongMethod_405WithAllow(string method, string path, string allowed)
    {
        var (status, error, response) = await OpenAIAsync(new HttpRequestMessage(new HttpMethod(method), path));

        Assert.Equal(405, status);
        Assert.Equal(allowed, string.Join(", ", response.Content.Headers.Allow));
        Assert.Contains(allowed, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        response.Dispose();
    }

    [Fact]
    public async Task Ollama_WrongMethod_405InOllamaFormat()
    {
        var (status, message, _) = await OllamaAsync(new HttpRequestMessage(HttpMethod.Get, "api/chat"));

        Assert.Equal(405, status);
        Assert.Contains("POST", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("v1/nope")]
    [InlineData("favicon.ico")]
    public async Task UnknownPath_404Json(string path)
    {
        var (status, error, _) = await OpenAIAsync(new HttpRequestMessage(HttpMethod.Get, path));

        Assert.Equal(404, status);
        Assert.Contains(path, error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ollama_UnknownPath_404InOllamaFormat()
    {
        var (status, message, _) = await OllamaAsync(new HttpRequestMessage(HttpMethod.Post, "api/frobnicate"));

        Assert.Equal(404, status);
        Assert.Contains("/api/frobnicate", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WebSocketPath_PlainHttp_400SaysUseWebSocket()
    {
        var (status, error, _) = await OpenAIAsync(new HttpRequestMessage(HttpMethod.Get, "v1/stream/ws"));

        Assert.Equal(400, status);
        Assert.Contains("WebSocket", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ErrorAnswer_StillEchoesRequestId()
    {
        var (_, _, response) = await OpenAIAsync(Post("v1/chat/completions", """{"model":"missing-model","messages":[{"role":"user","content":"hi"}]}""", ("X-Request-ID", "err-7")));

        Assert.Equal("err-7", Header(response, "X-Request-ID"));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        response.Dispose();
    }

    [Fact]
    public async Task OpenAI_RouterThrows_500InOpenAIFormat()
    {
        var (status, error, _) = await OpenAIAsync(Post("v1/chat/completions", """{"model":"router-bug","messages":[{"role":"user","content":"hi"}],"stream":true}"""));

        Assert.Equal(500, status);
        Assert.Equal("internal_error", error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Ollama_RouterThrows_500InOllamaFormat()
    {
        var (status, message, _) = await OllamaAsync(Post("api/generate", """{"model":"router-bug","prompt":"hi","stream":false}"""));

        Assert.Equal(500, status);
        Assert.Contains("see its log", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Root_OllamaHeartbeat_Answers()
    {
        using var response = await _client.GetAsync("");
        using var head = await _client.SendAsync(new HttpRequestMessage(HttpMethod.Head, ""));

        Assert.Equal("Ollama is running", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
    }
}
