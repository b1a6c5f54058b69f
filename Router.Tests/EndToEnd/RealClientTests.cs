using System.ClientModel;
using System.Text;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Embeddings;
using OpenAI.Models;
using Router.Tests.Http;

namespace Router.Tests.EndToEnd;

/// <summary>
/// Issue 4's proof: the official clients — the openai and ollama npm packages, ws, and the OpenAI
/// .NET SDK — used unchanged against the real daemon in front of the simulated devices. Each node
/// script asserts what its client sees and prints "ok …" per check; afterwards every slot is free.
/// </summary>
public sealed class RealClientTests : IClassFixture<RealDaemon>, IAsyncLifetime
{
    private static readonly TimeSpan ScriptLimit = TimeSpan.FromSeconds(90);
    private readonly RealDaemon _daemon;
    private readonly OpenAIClient _openai;

    public RealClientTests(RealDaemon daemon)
    {
        _daemon = daemon;
        _openai = new OpenAIClient(new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(daemon.HttpEndpoint, "v1") });
    }

    public Task InitializeAsync() => _daemon.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Theory]
    [InlineData("real-openai.mjs", 12)]
    [InlineData("real-ollama.mjs", 16)]
    [InlineData("real-ws.mjs", 5)]
    public async Task OfficialClient_Script_AllChecksPassAndSlotsFreed(string script, int checks)
    {
        var outcome = await NodeScript.RunAsync(script, _daemon.HttpEndpoint, ScriptLimit);

        Assert.True(outcome.ExitCode == 0, outcome.ToString());
        Assert.Equal(checks, outcome.Output.Split('\n').Count(line => line.StartsWith("ok ", StringComparison.Ordinal)));
        await _daemon.WaitForSlotsFreedAsync();
    }

    [Fact]
    public async Task DotNetChatClient_Complete_TextUsageAndRoutingHeaders()
    {
        var chat = _openai.GetChatClient("llama3.2:1b");

        ClientResult<ChatCompletion> result = await chat.CompleteChatAsync(
            [new SystemChatMessage("Be brief."), new UserChatMessage("Why is the sky blue?")],
            new ChatCompletionOptions { MaxOutputTokenCount = 11 });

        ChatCompletion completion = result.Value;
        Assert.False(string.IsNullOrWhiteSpace(completion.Content[0].Text));
        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.Equal(11, completion.Usage.OutputTokenCount);
        Assert.True(completion.Usage.InputTokenCount > 0);
        Assert.Equal(completion.Usage.InputTokenCount + completion.Usage.OutputTokenCount, completion.Usage.TotalTokenCount);
        var headers = result.GetRawResponse().Headers;
        Assert.True(headers.TryGetValue("X-Backend-Used", out var backend));
        Assert.Contains(backend, RealDaemon.BackendIds);
        Assert.True(headers.TryGetValue("X-Routing-Reason", out var reason) && reason!.Length > 0);
    }

    [Fact]
    public async Task DotNetChatClient_Streaming_TokensThenUsage()
    {
        var chat = _openai.GetChatClient("qwen2.5:0.5b");
        var text = new StringBuilder();
        var updates = 0;
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;

        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Why is the sky blue?")], new ChatCompletionOptions { MaxOutputTokenCount = 14 }))
        {
            updates++;
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            usage ??= update.Usage;
            finish ??= update.FinishReason;
        }

        Assert.False(string.IsNullOrWhiteSpace(text.ToString()));
        Assert.True(updates >= 5, $"{updates} updates");
        Assert.NotNull(finish);
        Assert.NotNull(usage); // the SDK asks for include_usage itself
        Assert.Equal(14, usage.OutputTokenCount);
    }

    [Fact]
    public async Task DotNetEmbeddingClient_TwoInputs_TwoVectorsOfEqualLength()
    {
        var embeddings = _openai.GetEmbeddingClient("nomic-embed-text");

        OpenAIEmbeddingCollection result = await embeddings.GenerateEmbeddingsAsync(["the sky is blue", "the grass is green"]);

        Assert.Equal(2, result.Count);
        var a = result[0].ToFloats().ToArray();
        var b = result[1].ToFloats().ToArray();
        Assert.NotEmpty(a);
        Assert.Equal(a.Length, b.Length);
        Assert.NotEqual(a, b);
    }

    [Fact]
    public async Task DotNetModelClient_List_UnionOfTheDevicesModels()
    {
        OpenAIModelCollection list = await _openai.GetOpenAIModelClient().GetModelsAsync();

        var ids = list.Select(m => m.Id).ToList();
        Assert.Contains("llama3.2:1b", ids);
        Assert.Contains("qwen2.5:0.5b", ids);
        Assert.Contains(ids, id => id.StartsWith("nomic-embed-text", StringComparison.Ordinal));
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
        Assert.All(list, m => Assert.Equal("ollama-proxy", m.OwnedBy));
    }
}
