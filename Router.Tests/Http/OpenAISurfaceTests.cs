using System.Text;
using System.Text.Json;
using Router.Actors.Backends;
using Router.Actors.Routing;
using Router.Tests.Http.Fakes;
using static Router.Tests.Http.HttpTestKit;

namespace Router.Tests.Http;

public sealed class OpenAISurfaceTests : IAsyncLifetime
{
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

    [Fact]
    public async Task ChatCompletions_BodyWithBackendFields_ReachesBackendByteForByte()
    {
        const string body = """{"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{}}}}],"response_format":{"type":"json_object"},"seed":7,"stop":["\n\n"],"max_tokens":64,"x_vendor_field":{"keep":true}}""";

        using var response = await _client.SendAsync(Post("v1/chat/completions", body));

        Assert.Equal(200, (int)response.StatusCode);
        var request = Assert.Single(_router.Requests);
        Assert.Equal(BackendApi.OpenAIChatCompletions, request.Native.Api);
        Assert.False(request.Native.Stream);
        Assert.Equal(body, Encoding.UTF8.GetString(request.Native.Body.Span));
        Assert.Equal("llama3.2", request.Model);
        Assert.Equal(64, request.ExpectedTokens);
    }

    [Fact]
    public async Task ChatCompletions_NonStreaming_ReturnsBackendAnswerWithUsage()
    {
        using var response = await _client.SendAsync(Post("v1/chat/completions", """{"model":"llama3.2","messages":[{"role":"user","content":"hi"}]}"""));

        var json = await JsonAsync(response);
        Assert.Equal("application/json", ContentType(response)!.MediaType);
        Assert.Equal("chat.completion", json.GetProperty("object").GetString());
        Assert.Equal("Hello, world!", json.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal(FakeAnswers.PromptTokens + 4, json.GetProperty("usage").GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public async Task ChatCompletions_RoutedAnswer_CarriesDecisionHeaders()
    {
        using var response = await _client.SendAsync(Post("v1/chat/completions", """{"model":"llama3.2","messages":[{"role":"user","content":"hi"}]}""",
            ("X-Latency-Critical", "true"), ("X-Request-ID", "trace-me-1")));

        Assert.Equal("ollama-nvidia", Header(response, "X-Backend-Used"));
        Assert.Equal("latency-critical", Header(response, "X-Routing-Reason"));
        Assert.Equal("150", Header(response, "X-Estimated-Latency-Ms"));
        Assert.Equal("55", Header(response, "X-Estimated-Power-W"));
        Assert.Equal("ollama-npu,ollama-igpu,ollama-cpu", Header(response, "X-Alternatives"));
        Assert.Equal("trace-me-1", Header(response, "X-Request-ID"));
    }

    [Fact]
    public async Task ChatCompletions_HintHeaders_ReachTheRouter()
    {
        using var response = await _client.SendAsync(Post("v1/chat/completions", """{"model":"llama3.2","messages":[{"role":"user","content":"hi"}]}""",
            ("X-Target-Backend", "npu"), ("X-Priority", "critical"), ("X-Max-Power-Watts", "10"), ("X-Max-Latency-Ms", "900"), ("X-Media-Type", "voice")));

        Assert.Equal(200, (int)response.StatusCode);
        var hints = Assert.Single(_router.Requests).Hints;
        Assert.Equal("npu", hints.Target);
        Assert.Equal(Priority.Critical, hints.Priority);
        Assert.Equal(10, hints.MaxPowerWatts);
        Assert.Equal(900, hints.MaxLatencyMs);
        Assert.Equal("voice", hints.MediaType);
        Assert.Equal("ollama-npu", Header(response, "X-Backend-Used"));
    }

    [Fact]
    public async Task ChatCompletions_NoRequestId_OneIsGeneratedAndEchoed()
    {
        using var response = await _client.SendAsync(Post("v1/chat/completions", """{"model":"llama3.2","messages":[{"role":"user","content":"hi"}]}"""));

        var id = Header(response, "X-Request-ID");
        Assert.False(string.IsNullOrEmpty(id));
        Assert.Equal(id, Assert.Single(_router.Requests).Hints.RequestId);
    }

    [Fact]
    public async Task ChatCompletions_Streaming_IsSseEndingWithDone()
    {
        using var response = await _client.SendAsync(Post("v1/chat/completions", """{"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"stream":true}"""),
            HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        Assert.Equal("text/event-stream", ContentType(response)!.MediaType);
        Assert.Equal("ollama-igpu", Header(response, "X-Backend-Used"));
        var text = new StringBuilder();
        var events = new List<string>();
        while (await NextSseDataAsync(reader) is { } data)
        {
            events.Add(data);
            if (data == "[DONE]") break;
            using var chunk = JsonDocument.Parse(data);
            Assert.Equal("chat.completion.chunk", chunk.RootElement.GetProperty("object").GetString());
            var choices = chunk.RootElement.GetProperty("choices");
            if (choices.GetArrayLength() > 0 && choices[0].GetProperty("delta").TryGetProperty("content", out var content)) text.Append(content.GetString());
        }
        Assert.Equal("[DONE]", events[^1]);
        Assert.Equal("Hello, world!", text.ToString());
        Assert.Null(await NextSseDataAsync(reader));
        Assert.True(Assert.Single(_router.Requests).Native.Stream);
    }

    [Fact]
    public async Task ChatCompletions_StreamingWithIncludeUsage_LastChunkBeforeDoneHasUsageAndNoChoices()
    {
        using var response = await _client.SendAsync(Post("v1/chat/completions",
            """{"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}"""),
            HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        var events = new List<string>();
        while (await NextSseDataAsync(reader) is { } data) events.Add(data);
        Assert.Equal("[DONE]", events[^1]);
        using var usageChunk = JsonDocument.Parse(events[^2]);
        Assert.Equal(0, usageChunk.RootElement.GetProperty("choices").GetArrayLength());
        Assert.Equal(4, usageChunk.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task Completions_Streaming_ForwardsTextCompletionChunks()
    {
        using var response = await _client.SendAsync(Post("v1/completions", """{"model":"llama3.2","prompt":"Once","stream":true}"""),
            HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        var first = await NextSseDataAsync(reader);
        using var chunk = JsonDocument.Parse(first!);
        Assert.Equal("text_completion", chunk.RootElement.GetProperty("object").GetString());
        Assert.Equal("Hello", chunk.RootElement.GetProperty("choices")[0].GetProperty("text").GetString());
        Assert.Equal(BackendApi.OpenAICompletions, Assert.Single(_router.Requests).Native.Api);
    }

    [Fact]
    public async Task Embeddings_StreamTrueInBody_StillAnswersInOnePiece()
    {
        using var response = await _client.SendAsync(Post("v1/embeddings", """{"model":"nomic-embed-text","input":["a","b"],"encoding_format":"float","stream":true}"""));

        var json = await JsonAsync(response);
        Assert.Equal(2, json.GetProperty("data").GetArrayLength());
        Assert.Equal(4, json.GetProperty("data")[1].GetProperty("embedding").GetArrayLength());
        Assert.False(Assert.Single(_router.Requests).Native.Stream);
    }
}
