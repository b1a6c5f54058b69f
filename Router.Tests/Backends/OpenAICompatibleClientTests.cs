using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Router.Actors.Backends;
using Router.Gateway.Simulation;
using static Router.Tests.Backends.BackendTestKit;

namespace Router.Tests.Backends;

public sealed class OpenAICompatibleClientTests
{
    [Fact]
    public async Task Stream_Chat_YieldsDeltasAndUsage()
    {
        await using SimulatedBackend sim = await StartSimulatorAsync();
        using IBackendClient client = BackendClientFactory.Create(BackendTestKit.Config(sim.Endpoint, "openai"));
        BackendRequest request = GenerationRequestBuilder.ForOpenAI(new GenerationInput("qwen2.5:0.5b")
        {
            Messages = [new ChatMessage("system", "be brief"), new ChatMessage("user", "hello")],
            Options = new GenerationOptions { MaxTokens = 6 },
        });

        List<StreamEvent> events = await ReadAllAsync(client.Stream(request, Timeout()));

        Assert.IsType<OpenAICompatibleClient>(client);
        Assert.Equal(6, events.OfType<StreamChunk>().Count(c => c.Text.Length > 0));
        StreamCompleted completed = Assert.IsType<StreamCompleted>(events[^1]);
        Assert.Equal(6, completed.Usage.CompletionTokens);
        Assert.True(completed.Usage.PromptTokens > 0);
    }

    [Fact]
    public async Task Send_Completion_ReturnsTextAndUsage()
    {
        await using SimulatedBackend sim = await StartSimulatorAsync();
        using IBackendClient client = BackendClientFactory.Create(BackendTestKit.Config(new Uri(sim.Endpoint, "v1"), "openai"));
        BackendRequest request = GenerationRequestBuilder.ForOpenAI(new GenerationInput("llama3.2:1b")
        {
            Prompt = "Once upon a time",
            Options = new GenerationOptions { MaxTokens = 5 },
            Stream = false,
        });

        var result = await client.SendAsync(request, Timeout());

        Assert.True(result.IsOk);
        Assert.True(BackendResponseReader.TryReadText(BackendApi.OpenAICompletions, result.Value.Body.Span, out string text));
        Assert.Equal(5, text.Split(' ').Length);
        Assert.Equal(5, result.Value.Usage.CompletionTokens);
    }

    [Fact]
    public async Task Send_Embeddings_ReturnsVectorsInOrder()
    {
        await using SimulatedBackend sim = await StartSimulatorAsync(embeddingDimensions: 8);
        using IBackendClient client = BackendClientFactory.Create(BackendTestKit.Config(sim.Endpoint, "openai"));

        var result = await client.SendAsync(EmbeddingRequestBuilder.ForOpenAI("nomic-embed-text", ["a", "b", "c"], dimensions: 12), Timeout());

        var vectors = BackendResponseReader.ReadEmbeddings(BackendApi.OpenAIEmbeddings, result.Value.Body);
        Assert.Equal(3, vectors.Value.Length);
        Assert.All(vectors.Value, v => Assert.Equal(12, v.Length));
        Assert.True(result.Value.Usage.PromptTokens > 0);
    }

    [Fact]
    public async Task ListModelsAndProbe_UseV1Models()
    {
        await using SimulatedBackend sim = await StartSimulatorAsync();
        using IBackendClient client = BackendClientFactory.Create(BackendTestKit.Config(sim.Endpoint, "openai"));

        var models = await client.ListModelsAsync(Timeout());
        var probe = await client.ProbeAsync(Timeout());

        Assert.Equal(DeviceProfile.DefaultModels.ToArray(), Names(models.Value));
        Assert.True(probe.IsOk);
    }

    [Theory]
    [InlineData(BackendApi.OllamaGenerate)]
    [InlineData(BackendApi.OllamaChat)]
    [InlineData(BackendApi.OllamaEmbed)]
    [InlineData(BackendApi.OllamaEmbeddings)]
    public async Task OllamaApis_AreNotSupported(BackendApi api)
    {
        using IBackendClient client = BackendClientFactory.Create(BackendTestKit.Config(new Uri("http://127.0.0.1:1"), "openai"));

        var sent = await client.SendAsync(Json(api, "{}", false), Timeout());
        List<StreamEvent> streamed = await ReadAllAsync(client.Stream(Json(api, "{}", true), Timeout()));

        Assert.False(client.Supports(api));
        Assert.Equal(BackendErrorKind.NotSupported, sent.Error.Kind);
        Assert.Equal(BackendErrorKind.NotSupported, Assert.IsType<StreamFailed>(Assert.Single(streamed)).Error.Kind);
    }

    [Fact]
    public async Task Send_WithApiKey_SendsBearerToken()
    {
        string? seen = null;
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        await using WebApplication app = builder.Build();
        app.Run(async context =>
        {
            seen = context.Request.Headers.Authorization;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("""{"object":"list","data":[{"id":"m","object":"model","created":0,"owned_by":"x"}]}""");
        });
        await app.StartAsync();
        var endpoint = new Uri(app.Urls.First());
        using IBackendClient client = BackendClientFactory.Create(BackendTestKit.Config(endpoint, "openai") with { ApiKey = "sk-test" });

        var models = await client.ListModelsAsync(Timeout());

        Assert.Equal("Bearer sk-test", seen);
        Assert.Equal(["m"], Names(models.Value));
        await app.StopAsync();
    }

    [Fact]
    public void Create_UnknownType_Throws()
    {
        Assert.Throws<ArgumentException>(() => BackendClientFactory.Create(BackendTestKit.Config(new Uri("http://127.0.0.1:1"), "carrier-pigeon")));
    }
}
