using System.ClientModel;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Embeddings;
using Router.Gateway.Simulation;
using static Router.Tests.Backends.BackendTestKit;

namespace Router.Tests.Simulation;

/// <summary>The official OpenAI .NET client against the simulator's /v1: proof that the wire format is right.</summary>
public sealed class OpenAIClientInteropTests
{
    [Fact]
    public async Task OfficialClient_StreamingChat_ReceivesTheSameTextAsNonStreaming()
    {
        await using SimulatedBackend sim = await StartSimulatorAsync();
        OpenAIClientOptions options = new() { Endpoint = new Uri(sim.Endpoint, "v1") };
        var chat = new ChatClient("llama3.2:1b", new ApiKeyCredential("unused"), options);
        ChatMessage[] messages = [new UserChatMessage("Why is the sky blue?")];
        var settings = new ChatCompletionOptions { MaxOutputTokenCount = 6 };

        var streamed = new System.Text.StringBuilder();
        await foreach (StreamingChatCompletionUpdate update in chat.CompleteChatStreamingAsync(messages, settings, Timeout()))
        {
            foreach (ChatMessageContentPart part in update.ContentUpdate)
            {
                streamed.Append(part.Text);
            }
        }

        ChatCompletion whole = (await chat.CompleteChatAsync(messages, settings, Timeout())).Value;

        Assert.Equal(whole.Content[0].Text, streamed.ToString());
        Assert.Equal(6, whole.Usage.OutputTokenCount);
        Assert.Equal(ChatFinishReason.Length, whole.FinishReason);
    }

    [Fact]
    public async Task OfficialClient_Embeddings_ReturnsTheVector()
    {
        await using SimulatedBackend sim = await StartSimulatorAsync(embeddingDimensions: 8);
        var embeddings = new EmbeddingClient("nomic-embed-text", new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(sim.Endpoint, "v1") });

        OpenAIEmbedding embedding = (await embeddings.GenerateEmbeddingAsync("hello", cancellationToken: Timeout())).Value;

        Assert.Equal(8, embedding.ToFloats().Length);
    }
}
