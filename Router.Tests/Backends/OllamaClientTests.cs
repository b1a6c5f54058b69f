using System.Text;
using System.Text.Json;
using Router.Actors.Backends;
using Router.Gateway.Simulation;
using static Router.Tests.Backends.BackendTestKit;

namespace Router.Tests.Backends;

public sealed class OllamaClientTests
{
    [Fact]
    public async Task Stream_Generate_YieldsEachTokenThenTheFinalObjectAndUsage()
    {
        await using SimulatedBackend sim = await StartSimulatorAsync();
        using IBackendClient client = BackendClientFactory.Create(BackendTestKit.Config(sim.Endpoint));

        List<StreamEvent> events = await ReadAllAsync(client.Stream(
            Json(BackendApi.OllamaGenerate, """{"model":"llama3.2:1b","prompt":"why is the sky blue","options":{"num_predict":5}}""", true),
            Timeout()));

        StreamChunk[] chunks = events.OfType<StreamChunk>().ToArray();
        Assert.Equal(6, chunks.Length); // five tokens and the done object
        Assert.All(chunks[..5], c => Assert.NotEmpty(c.Text));
        using (JsonDocument final = JsonDocument.Parse(chunks[5].Raw))
        {
            Assert.True(final.RootElement.GetProperty("done").GetBoolean());
        }

        StreamCompleted completed = Assert.IsType<StreamCompleted>(events[^1]);
        Assert.Equal(5, completed.Usage.CompletionTokens);
        Assert.True(completed.Usage.PromptTokens > 0);
        Assert.Equal(TimeSpan.FromSeconds(5 / DeviceProfile.Nvidia.TokensPerSecond).TotalMilliseconds, completed.Usage.EvalDuration!.Value.TotalMilliseconds, 1);
    }

    [Fact]
    public async Task Stream_Chat_TextMatchesTheNonStreamingAnswer()
    {
        await using SimulatedBackend sim = await StartSimulatorAsync();
        using IBackendClient client = BackendClientFactory.Create(BackendTestKit.Config(sim.Endpoint));
        const string Messages = "\"messages\":[{\"role\":\"user\",\"content\":\"hello there\"}],\"options\":{\"num_predict\":7}";

        List<StreamEvent> events = await ReadAllAsync(client.Stream(
            Json(BackendApi.OllamaChat, """{"model":"qwen2.5:0.5b",""" + Messages + "}", true), Timeout()));
        Result<BackendResponse, BackendError> whole = await client.SendAsync(
            Json(BackendApi.OllamaChat, """{"model":"qwen2.5:0.5b","stream":false,""" + Messages + "}", false), Timeout());

        Assert.True(whole.IsOk);
        Assert.True(BackendResponseReader.TryReadText(BackendApi.OllamaChat, whole.Value.Body.Span, out string text));
        Assert.Equal(text, Text(events));
        Assert.Equal(7, whole.Value.Usage.CompletionTokens);
        Assert.IsType<StreamCompleted>(events[^1]);
    }

    [Fact]
    public async Task Stream_OpenAIChatOnOllama_GoesToV1AndReportsUsage()
    {
        await using SimulatedBackend sim = await StartSimulatorAsync();
        using IBackendClient client = BackendClientFactory.Create(BackendTestKit.Config(sim.Endpoint));
        BackendRequest request = GenerationRequestBuilder.ForOpenAI(new GenerationInput("llama3.2:1b")
        {
            Messages = [new ChatMessage("user", "hi")],
            Options = new GenerationOptions { MaxTokens = 4 },
        });

        List<StreamEvent> events = await ReadAllAsync(client.Stream(request, Timeout()));

        Assert.Equal(4, events.OfType<StreamChunk>().Count(c => c.Text.Length > 0));
        using (JsonDocument first = JsonDocument.Parse(events.OfType<StreamChunk>().First().Raw))
        {
            Assert.Equal("chat.completion.chunk", first.RootElement.GetProperty("object").GetString());
        }

        StreamCompleted completed = Assert.IsType<StreamCompleted>(events[^1]);
        Assert.Equal(4, completed.Usage.CompletionTokens);
        Assert.True(completed.Usage.PromptTokens > 0);
    }

    [Fact]
    public async Task Stream_OpenAICompletionWithoutUsage_CountsTextChunks()
    {
        await using SimulatedBackend sim = await StartSimulatorAsync();
        using IBackendClient client = BackendClientFactory.Create(BackendTestKit.Config(sim.Endpoint));

        List<StreamEvent> events = await ReadAllAsync(client.Stream(
            Json(BackendApi.OpenAICompletions, """{"model":"llama3.2:1b","prompt":"once","max_tokens":3,"stream":true}""", true), Timeout()));

        StreamCompleted completed = Assert.IsType<StreamCompleted>(events[^1]);
        Assert.Equal(3, completed.Usage.CompletionTokens);
    }

    [Fact]
    public async Task Send_Embed_ReturnsOneVectorPerInput()
    {
        await using SimulatedBackend sim = await StartSimulatorAsync(embeddingDimensions: 8);
        using IBackendClient client = BackendClientFactory.Create(BackendTestKit.Config(sim.Endpoint));

        Result<BackendResponse, BackendError> result = await client.SendAsync(
            EmbeddingRequestBuilder.ForOllama("nomic-embed-text", ["one", "two words"]), Timeout());

        Assert.True(result.IsOk);
        Result<System.Collections.Immutable.ImmutableArray<float[]>, BackendError> vectors =
            BackendResponseReader.ReadEmbeddings(BackendApi.OllamaEmbed, result.Value.Body);
        Assert.True(vectors.IsOk);
        Assert.Equal(2, vectors.Value.Length);
        Assert.All(vectors.Value, v => Assert.Equal(8, v.Length));
        Assert.NotEqual(vectors.Value[0], vectors.Value[1]);
        Assert.True(result.Value.Usage.PromptTokens > 0);
    }

    [Fact]
    public async Task Send_LegacyEmbeddings_ReturnsTheVector()
    {
        await using SimulatedBackend sim = await StartSimulatorAsync(embeddingDimensions: 16);
        using IBackendClient client = BackendClientFactory.Create(BackendTestKit.Config(sim.Endpoint));

        Result<BackendResponse, BackendError> result = await client.SendAsync(
            Json(BackendApi.OllamaEmbeddings, """{"model":"nomic-embed-text","prompt":"text"}""", false), Timeout());

        Assert.True(result.IsOk);
        Assert.Equal(16, BackendResponseReader.ReadEmbeddings(BackendApi.OllamaEmbeddings, result.Value.Body).Value[0].Length);
    }

    [Fact]
    public async Task ListModels_ReturnsTheTagsWithTheirRawJson()
    {
        await using SimulatedBackend sim = await StartSimulatorAsync();
        using IBackendClient client = BackendClientFactory.Create(BackendTestKit.Config(sim.Endpoint));

        var models = await client.ListModelsAsync(Timeout());

        Assert.True(models.IsOk);
        Assert.Equal(DeviceProfile.DefaultModels.ToArray(), Names(models.Value));
        Assert.All(models.Value, m => Assert.True(m.SizeBytes > 0));
        using JsonDocument raw = JsonDocument.Parse(models.Value[0].Raw);
        Assert.Equal("llama3.2:1b", raw.RootElement.GetProperty("name").GetString());
    }

    [Fact]
    public async Task Passthrough_ShowVersionAndPs_ReturnTheBackendJson()
    {
        await using SimulatedBackend sim = await StartSimulatorAsync();
        using IBackendClient client = BackendClientFactory.Create(BackendTestKit.Config(sim.Endpoint));
        await client.SendAsync(Json(BackendApi.OllamaGenerate, """{"model":"llama3.2:1b","prompt":"x","stream":false}""", false), Timeout());

        var show = await client.PassthroughAsync(HttpMethod.Post, "/api/show", """{"model":"llama3.2:1b"}"""u8.ToArray(), Timeout());
        var version = await client.PassthroughAsync(HttpMethod.Get, "/api/version", default, Timeout());
        var ps = await client.PassthroughAsync(HttpMethod.Get, "/api/ps", default, Timeout());

        using JsonDocument showJson = JsonDocument.Parse(show.Value.Body);
        Assert.Equal("llama", showJson.RootElement.GetProperty("details").GetProperty("family").GetString());
        using JsonDocument versionJson = JsonDocument.Parse(version.Value.Body);
        Assert.False(string.IsNullOrEmpty(versionJson.RootElement.GetProperty("version").GetString()));
        using JsonDocument psJson = JsonDocument.Parse(ps.Value.Body);
        Assert.Equal("llama3.2:1b", psJson.RootElement.GetProperty("models")[0].GetProperty("name").GetString());
    }

    [Fact]
    public async Task GetContextLength_HeldAndUnknownModels_LengthOrTheBackendsError()
    {
        await using SimulatedBackend sim = await StartSimulatorAsync();
        using IBackendClient client = BackendClientFactory.Create(BackendTestKit.Config(sim.Endpoint));

        var chat = await client.GetContextLengthAsync("llama3.2:1b", Timeout());
        var embedding = await client.GetContextLengthAsync("nomic-embed-text", Timeout());
        var missing = await client.GetContextLengthAsync("no-such-model:7b", Timeout());

        Assert.Equal(131072, chat.Value);
        Assert.Equal(2048, embedding.Value);
        Assert.Equal((BackendErrorKind.HttpStatus, 404), (missing.Error.Kind, missing.Error.StatusCode));
    }

    [Theory]
    [InlineData("""{"model_info":{"general.architecture":"qwen2","qwen2.context_length":32768}}""", 32768)]
    [InlineData("""{"model_info":{"general.architecture":"llama"}}""", null)]
    [InlineData("""{"details":{}}""", null)]
    [InlineData("""not json""", null)]
    public void ParseContextLength_ShowAnswer_LengthOrProtocolError(string body, int? expected)
    {
        var result = ModelShowParser.ParseContextLength("b", "m", System.Text.Encoding.UTF8.GetBytes(body));

        Assert.Equal(expected, result.IsOk ? result.Value : null);
        Assert.True(result.IsOk || result.Error.Kind == BackendErrorKind.Protocol);
    }

    [Fact]
    public async Task Probe_HealthyBackend_ReturnsItsLatency()
    {
        await using SimulatedBackend sim = await StartSimulatorAsync();
        using IBackendClient client = BackendClientFactory.Create(BackendTestKit.Config(sim.Endpoint));

        Result<TimeSpan, BackendError> probe = await client.ProbeAsync(Timeout());

        Assert.True(probe.IsOk);
        Assert.True(probe.Value > TimeSpan.Zero);
    }

    [Fact]
    public void Supports_Ollama_OffersEveryApi()
    {
        using IBackendClient client = BackendClientFactory.Create(BackendTestKit.Config(new Uri("http://127.0.0.1:1")));

        Assert.All(Enum.GetValues<BackendApi>(), api => Assert.True(client.Supports(api)));
    }

    [Fact]
    public async Task Send_UnknownModel_Is404AndNotRetryable()
    {
        await using SimulatedBackend sim = await StartSimulatorAsync();
        using IBackendClient client = BackendClientFactory.Create(BackendTestKit.Config(sim.Endpoint));

        var result = await client.SendAsync(Json(BackendApi.OllamaGenerate, """{"model":"nope","prompt":"x","stream":false}""", false), Timeout());

        Assert.False(result.IsOk);
        Assert.Equal(BackendErrorKind.HttpStatus, result.Error.Kind);
        Assert.Equal(404, result.Error.StatusCode);
        Assert.False(result.Error.IsRetryable);
        Assert.Contains("not found", Encoding.UTF8.GetString(result.Error.Body.Span), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stream_SequentialCalls_ReuseOneConnection()
    {
        await using SimulatedBackend sim = await StartSimulatorAsync();
        using IBackendClient client = BackendClientFactory.Create(BackendTestKit.Config(sim.Endpoint));

        for (int i = 0; i < 3; i++)
        {
            List<StreamEvent> events = await ReadAllAsync(client.Stream(
                Json(BackendApi.OllamaGenerate, """{"model":"llama3.2:1b","prompt":"again","options":{"num_predict":3}}""", true), Timeout()));
            Assert.IsType<StreamCompleted>(events[^1]);
            List<StreamEvent> openAI = await ReadAllAsync(client.Stream(
                Json(BackendApi.OpenAIChatCompletions, """{"model":"llama3.2:1b","messages":[{"role":"user","content":"x"}],"stream":true,"max_tokens":2}""", true), Timeout()));
            Assert.IsType<StreamCompleted>(openAI[^1]);
        }

        Assert.True((await client.ProbeAsync(Timeout())).IsOk);
        Assert.Equal(1, sim.ConnectionsAccepted);
    }

    [Fact]
    public async Task Stream_BackendAnswersWithOneBareObject_CompletesWithIt()
    {
        await using SimulatedBackend sim = await StartSimulatorAsync();
        using IBackendClient client = BackendClientFactory.Create(BackendTestKit.Config(sim.Endpoint));

        // The body asks for no streaming: Ollama answers one object without a trailing newline.
        List<StreamEvent> events = await ReadAllAsync(client.Stream(
            Json(BackendApi.OllamaGenerate, """{"model":"llama3.2:1b","prompt":"x","stream":false,"options":{"num_predict":4}}""", true), Timeout()));

        StreamChunk chunk = Assert.IsType<StreamChunk>(Assert.Single(events.OfType<StreamChunk>()));
        Assert.Equal(4, chunk.Text.Split(' ').Length);
        Assert.Equal(4, Assert.IsType<StreamCompleted>(events[^1]).Usage.CompletionTokens);
    }

    [Theory]
    [InlineData(BackendApi.OllamaGenerate, """{"model":"llama3.2:1b","prompt":"fold me","options":{"num_predict":6}}""")]
    [InlineData(BackendApi.OllamaChat, """{"model":"llama3.2:1b","messages":[{"role":"user","content":"fold me"}],"options":{"num_predict":6}}""")]
    public async Task Send_BodyWithoutStreamFalse_FoldsTheStreamIntoOneAnswer(BackendApi api, string body)
    {
        await using SimulatedBackend sim = await StartSimulatorAsync();
        using IBackendClient client = BackendClientFactory.Create(BackendTestKit.Config(sim.Endpoint));

        // Ollama streams unless told otherwise; the caller asked for one answer anyway.
        var folded = await client.SendAsync(Json(api, body, false), Timeout());
        List<StreamEvent> streamed = await ReadAllAsync(client.Stream(Json(api, body, true), Timeout()));

        Assert.True(folded.IsOk);
        Assert.True(BackendResponseReader.TryReadText(api, folded.Value.Body.Span, out string text));
        Assert.Equal(Text(streamed), text);
        Assert.Equal(6, folded.Value.Usage.CompletionTokens);
        using JsonDocument json = JsonDocument.Parse(folded.Value.Body);
        Assert.True(json.RootElement.GetProperty("done").GetBoolean());
    }
}
