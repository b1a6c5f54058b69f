using System.Text;
using Router.Actors.Backends;

namespace Router.Tests.Backends;

public sealed class ChunkParserTests
{
    public static TheoryData<BackendApi, string, string, bool, int?, int?> Chunks => new()
    {
        // api, json, text, done-or-finished, prompt tokens, completion tokens
        { BackendApi.OllamaGenerate, """{"model":"m","created_at":"2026-01-01T00:00:00Z","response":"Hel","done":false}""", "Hel", false, null, null },
        { BackendApi.OllamaChat, """{"model":"m","message":{"role":"assistant","content":"lo","images":null},"done":false}""", "lo", false, null, null },
        { BackendApi.OllamaGenerate, """{"response":"","done":true,"done_reason":"stop","context":[1,2,3],"total_duration":5,"load_duration":1,"prompt_eval_count":11,"prompt_eval_duration":2,"eval_count":18,"eval_duration":52479709}""", "", true, 11, 18 },
        { BackendApi.OllamaEmbed, """{"model":"e","embeddings":[[0.1,0.2]],"prompt_eval_count":4}""", "", false, 4, null },
        { BackendApi.OpenAIChatCompletions, """{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}""", "Hi", false, null, null },
        { BackendApi.OpenAIChatCompletions, """{"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}""", "", true, null, null },
        { BackendApi.OpenAIChatCompletions, """{"id":"c","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21}}""", "", false, 9, 12 },
        { BackendApi.OpenAIChatCompletions, """{"id":"c","choices":null,"usage":{"prompt_tokens":9,"completion_tokens":12}}""", "", false, 9, 12 },
        { BackendApi.OpenAIChatCompletions, """{"choices":[{"index":0,"message":{"role":"assistant","content":"whole"},"finish_reason":"length"}],"usage":{"prompt_tokens":1,"completion_tokens":2}}""", "whole", true, 1, 2 },
        { BackendApi.OpenAICompletions, """{"id":"x","object":"text_completion","choices":[{"text":" world","index":0,"logprobs":null,"finish_reason":null}]}""", " world", false, null, null },
        { BackendApi.OpenAICompletions, """{"choices":[{"text":"a","index":0},{"text":"b","index":1}]}""", "a", false, null, null },
    };

    [Theory]
    [MemberData(nameof(Chunks))]
    public void TryParse_Table_ExtractsTextCompletionAndUsage(BackendApi api, string json, string text, bool ended, int? prompt, int? completion)
    {
        Assert.True(ChunkParser.TryParse(api, Encoding.UTF8.GetBytes(json), out ChunkInfo info));

        Assert.Equal(text, info.Text);
        Assert.Equal(ended, info.Done || info.Finished);
        Assert.Equal(prompt, info.PromptTokens);
        Assert.Equal(completion, info.CompletionTokens);
        Assert.Null(info.Error);
    }

    [Theory]
    [InlineData(BackendApi.OllamaChat, """{"error":"model crashed"}""", "model crashed")]
    [InlineData(BackendApi.OpenAIChatCompletions, """{"error":{"message":"bad things","type":"api_error"}}""", "bad things")]
    public void TryParse_ErrorObject_ReportsTheMessage(BackendApi api, string json, string message)
    {
        Assert.True(ChunkParser.TryParse(api, Encoding.UTF8.GetBytes(json), out ChunkInfo info));
        Assert.Equal(message, info.Error);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("{\"response\":")]
    public void TryParse_NotAnObject_ReturnsFalse(string json)
    {
        Assert.False(ChunkParser.TryParse(BackendApi.OllamaGenerate, Encoding.UTF8.GetBytes(json), out _));
    }

    [Fact]
    public void TryParse_OllamaFinal_ReportsEvalDurationInNanoseconds()
    {
        Assert.True(ChunkParser.TryParse(BackendApi.OllamaGenerate, """{"done":true,"eval_count":3,"eval_duration":1500000000}"""u8, out ChunkInfo info));
        Assert.Equal(1_500_000_000, info.EvalDurationNs);
    }
}
