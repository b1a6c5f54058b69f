using System.Text;
using System.Text.Json;
using Router.Actors.Backends;
using Router.Tests.Http.Fakes;
using static Router.Tests.Http.HttpTestKit;

namespace Router.Tests.Http;

public sealed class OllamaSurfaceTests : IAsyncLifetime
{
    private readonly FakeInferenceRouter _router = new();
    private readonly FakeRouterAdmin _admin = new();
    private HttpSurfaceHost _host = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _host = await HttpSurfaceHost.StartAsync(_router, _admin);
        _client = _host.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _host.DisposeAsync();
    }

    [Fact]
    public async Task Chat_NoStreamField_StreamsNdjsonLikeOllama()
    {
        const string body = """{"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"options":{"num_predict":32,"temperature":0.2},"keep_alive":"5m"}""";

        using var response = await _client.SendAsync(Post("api/chat", body), HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        Assert.Equal("application/x-ndjson", ContentType(response)!.MediaType);
        Assert.Equal("ollama-igpu", Header(response, "X-Backend-Used"));
        var text = new StringBuilder();
        var lines = 0;
        JsonElement last = default;
        while (await NextLineAsync(reader) is { } line)
        {
            lines++;
            last = JsonDocument.Parse(line).RootElement.Clone();
            text.Append(last.GetProperty("message").GetProperty("content").GetString());
        }
        Assert.Equal(5, lines);
        Assert.Equal("Hello, world!", text.ToString());
        Assert.True(last.GetProperty("done").GetBoolean());
        Assert.Equal(4, last.GetProperty("eval_count").GetInt32());
        var request = Assert.Single(_router.Requests);
        Assert.Equal(BackendApi.OllamaChat, request.Native.Api);
        Assert.True(request.Native.Stream);
        Assert.Equal(body, Encoding.UTF8.GetString(request.Native.Body.Span));
        Assert.Equal(32, request.ExpectedTokens);
    }

    [Fact]
    public async Task Generate_StreamFalse_ReturnsOneObject()
    {
        using var response = await _client.SendAsync(Post("api/generate", """{"model":"llama3.2","prompt":"Why is the sky blue?","stream":false}"""));

        var json = await JsonAsync(response);
        Assert.Equal("Hello, world!", json.GetProperty("response").GetString());
        Assert.True(json.GetProperty("done").GetBoolean());
        Assert.Equal(BackendApi.OllamaGenerate, Assert.Single(_router.Requests).Native.Api);
        Assert.NotNull(Header(response, "X-Request-ID"));
    }

    [Fact]
    public async Task Embed_Input_ReturnsEmbeddings()
    {
        using var response = await _client.SendAsync(Post("api/embed", """{"model":"nomic-embed-text","input":["one","two"]}"""));

        var json = await JsonAsync(response);
        Assert.Equal(2, json.GetProperty("embeddings").GetArrayLength());
        Assert.Equal(BackendApi.OllamaEmbed, Assert.Single(_router.Requests).Native.Api);
    }

    [Fact]
    public async Task Embeddings_LegacyPrompt_ReturnsEmbedding()
    {
        using var response = await _client.SendAsync(Post("api/embeddings", """{"model":"nomic-embed-text","prompt":"one"}"""));

        var json = await JsonAsync(response);
        Assert.Equal(4, json.GetProperty("embedding").GetArrayLength());
        Assert.Equal(BackendApi.OllamaEmbeddings, Assert.Single(_router.Requests).Native.Api);
    }

    [Fact]
    public async Task Tags_ModelsOnSeveralBackends_ListedOnceWithTheirBackends()
    {
        using var response = await _client.GetAsync("api/tags");

        var models = (await JsonAsync(response)).GetProperty("models").EnumerateArray().ToList();
        var names = models.Select(m => m.GetProperty("name").GetString()).ToList();
        Assert.Equal(names.Distinct().Count(), names.Count);
        Assert.Contains("llama3.1:8b", names);
        var llama = models.Single(m => m.GetProperty("name").GetString() == "llama3.2:latest");
        Assert.Equal(["ollama-igpu", "ollama-nvidia", "ollama-cpu"], llama.GetProperty("backends").EnumerateArray().Select(b => b.GetString()));
        Assert.Equal("gguf", llama.GetProperty("details").GetProperty("format").GetString());
    }

    [Fact]
    public async Task Tags_OneBackendDown_OthersStillListed()
    {
        _admin.Client("ollama-igpu").FailModelList = true;

        using var response = await _client.GetAsync("api/tags");

        Assert.Equal(200, (int)response.StatusCode);
        var names = (await JsonAsync(response)).GetProperty("models").EnumerateArray().Select(m => m.GetProperty("name").GetString()).ToList();
        Assert.Contains("llama3.2:1b", names);
        Assert.DoesNotContain("qwen2.5:0.5b", names);
    }

    [Fact]
    public async Task Ps_LoadedModels_UnionOverBackends()
    {
        using var response = await _client.GetAsync("api/ps");

        var models = (await JsonAsync(response)).GetProperty("models").EnumerateArray().ToList();
        Assert.NotEmpty(models);
        Assert.All(models, m => Assert.True(m.GetProperty("backends").GetArrayLength() >= 1));
        Assert.True(models.Single(m => m.GetProperty("name").GetString() == "llama3.2:latest").TryGetProperty("size_vram", out _));
    }

    [Fact]
    public async Task Show_ModelOnHealthyBackend_PassedThroughThere()
    {
        using var response = await _client.SendAsync(Post("api/show", """{"model":"qwen2.5:0.5b"}"""));

        var json = await JsonAsync(response);
        Assert.Equal("ollama-igpu", json.GetProperty("served_by").GetString());
        Assert.Equal("""{"model":"qwen2.5:0.5b"}""", Assert.Single(_admin.Client("ollama-igpu").Passthroughs).Body);
    }

    [Fact]
    public async Task Show_ModelWithoutTag_FindsLatest()
    {
        using var response = await _client.SendAsync(Post("api/show", """{"model":"llama3.2"}"""));

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("ollama-igpu", (await JsonAsync(response)).GetProperty("served_by").GetString());
    }

    [Fact]
    public async Task Show_UnknownModel_Is404InOllamaFormat()
    {
        using var response = await _client.SendAsync(Post("api/show", """{"model":"mistral"}"""));

        Assert.Equal(404, (int)response.StatusCode);
        Assert.Contains("mistral", (await JsonAsync(response)).GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Version_HealthyOllamaBackend_ReportsItsVersion()
    {
        using var response = await _client.GetAsync("api/version");

        Assert.Equal("0.12.6", (await JsonAsync(response)).GetProperty("version").GetString());
    }

    [Fact]
    public async Task Generate_NoPrompt_IsAModelLoadRoutedLikeAnyRequest()
    {
        using var response = await _client.SendAsync(Post("api/generate", """{"model":"llama3.2"}"""));

        Assert.Equal(200, (int)response.StatusCode);
        var request = Assert.Single(_router.Requests);
        Assert.False(request.Native.Stream); // Ollama answers a load with one object
        Assert.Equal("""{"model":"llama3.2"}""", Encoding.UTF8.GetString(request.Native.Body.Span));
        Assert.Empty(_admin.Client("ollama-igpu").Passthroughs);
    }

    [Fact]
    public async Task Unload_KeepAliveZero_SentToEveryReachableBackendHoldingTheModel()
    {
        const string body = """{"model":"llama3.2","keep_alive":0}""";

        using var response = await _client.SendAsync(Post("api/generate", body));

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("unload", (await JsonAsync(response)).GetProperty("done_reason").GetString());
        // llama3.2:latest is on igpu, nvidia (degraded) and cpu (down: skipped); npu has another model.
        Assert.Equal("ollama-igpu, ollama-nvidia", Header(response, "X-Unloaded-From"));
        foreach (var id in new[] { "ollama-igpu", "ollama-nvidia" })
        {
            Assert.Equal((HttpMethod.Post, "/api/generate", body), Assert.Single(_admin.Client(id).Passthroughs));
        }
        Assert.Empty(_admin.Client("ollama-cpu").Passthroughs);
        Assert.Empty(_admin.Client("ollama-npu").Passthroughs);
        Assert.Empty(_router.Requests);
    }

    [Fact]
    public async Task Unload_TargetHeader_OnlyThatBackend()
    {
        using var response = await _client.SendAsync(Post("api/generate", """{"model":"llama3.2","keep_alive":"0s"}""", ("X-Target-Backend", "nvidia")));

        Assert.Equal("ollama-nvidia", Header(response, "X-Unloaded-From"));
        Assert.Empty(_admin.Client("ollama-igpu").Passthroughs);
    }

    [Fact]
    public async Task Unload_UnknownTarget_400ListingTheBackends()
    {
        using var response = await _client.SendAsync(Post("api/generate", """{"model":"llama3.2","keep_alive":0}""", ("X-Target-Backend", "tpu")));

        Assert.Equal(400, (int)response.StatusCode);
        var error = (await JsonAsync(response)).GetProperty("error").GetString();
        Assert.Contains("unknown target 'tpu'", error, StringComparison.Ordinal);
        Assert.Contains("ollama-npu, ollama-igpu, ollama-nvidia, ollama-cpu", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unload_ModelOnNoBackend_404InOllamaFormat()
    {
        using var response = await _client.SendAsync(Post("api/generate", """{"model":"mistral","keep_alive":0}"""));

        Assert.Equal(404, (int)response.StatusCode);
        Assert.Contains("'mistral'", (await JsonAsync(response)).GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("api/pull")]
    [InlineData("api/delete")]
    [InlineData("api/blobs/sha256:abc")]
    public async Task ModelManagement_501SayingWhereModelsAreManaged(string path)
    {
        using var response = await _client.SendAsync(Post(path, """{"model":"llama3.2"}"""));

        Assert.Equal(501, (int)response.StatusCode);
        var error = (await JsonAsync(response)).GetProperty("error").GetString();
        Assert.Contains("does not manage models", error, StringComparison.Ordinal);
        Assert.Contains("ollama pull", error, StringComparison.Ordinal);
    }
}
