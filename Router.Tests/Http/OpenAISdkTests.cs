using System.ClientModel;
using System.Text;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Embeddings;
using OpenAI.Models;
using Router.Tests.Http.Fakes;

namespace Router.Tests.Http;

/// <summary>The official OpenAI .NET SDK pointed at the router: it must work unchanged.</summary>
public sealed class OpenAISdkTests : IAsyncLifetime
{
    private readonly FakeInferenceRouter _router = new();
    private HttpSurfaceHost _host = null!;
    private OpenAIClient _client = null!;

    public async Task InitializeAsync()
    {
        _host = await HttpSurfaceHost.StartAsync(_router, new FakeRouterAdmin());
        _client = new OpenAIClient(new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(_host.BaseAddress, "v1") });
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task ChatClient_Complete_ReturnsTextAndUsage()
    {
        var chat = _client.GetChatClient("llama3.2");

        ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("Say hello")], new ChatCompletionOptions { MaxOutputTokenCount = 16, StopSequences = { "\n\n" } });

        Assert.Equal("Hello, world!", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal(FakeAnswers.PromptTokens, completion.Usage.InputTokenCount);
        Assert.Equal(4, completion.Usage.OutputTokenCount);
        var sent = Encoding.UTF8.GetString(Assert.Single(_router.Requests).Native.Body.Span);
        Assert.Contains("\"stop\":[", sent, StringComparison.Ordinal);
        Assert.Equal(16, Assert.Single(_router.Requests).ExpectedTokens);
    }

    [Fact]
    public async Task ChatClient_Streaming_TokensThenUsage()
    {
        var chat = _client.GetChatClient("llama3.2");
        var text = new StringBuilder();
        ChatTokenUsage? usage = null;

        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Say hello")]))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            usage ??= update.Usage;
        }

        Assert.Equal("Hello, world!", text.ToString());
        Assert.NotNull(usage);
        Assert.Equal(4, usage.OutputTokenCount);
    }

    [Fact]
    public async Task EmbeddingClient_Generate_DecodesVector()
    {
        var embeddings = _client.GetEmbeddingClient("nomic-embed-text");

        OpenAIEmbedding embedding = await embeddings.GenerateEmbeddingAsync("hello");

        Assert.Equal(FakeAnswers.Vector, embedding.ToFloats().ToArray());
    }

    [Fact]
    public async Task ModelClient_List_ShowsEveryModel()
    {
        var models = _client.GetOpenAIModelClient();

        OpenAIModelCollection list = await models.GetModelsAsync();

        Assert.Contains(list, m => m.Id == "llama3.2:latest" && m.OwnedBy == "ollama-proxy");
        Assert.Equal(5, list.Count);
    }

    [Fact]
    public async Task ChatClient_ModelMissing_ThrowsWithRouterMessage()
    {
        var chat = _client.GetChatClient("missing-model");

        var error = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.Equal(404, error.Status);
        Assert.Contains("No healthy backend holds the model 'missing-model'", error.Message, StringComparison.Ordinal);
    }
}
