using System.Text.Json;
using Router.Actors.Backends;

namespace Router.Tests.Backends;

public sealed class GenerationRequestBuilderTests
{
    private static readonly GenerationOptions AllOptions = new()
    {
        MaxTokens = 32, Temperature = 0.5, TopP = 0.9, TopK = 40, Stop = ["\n\n"], ContextLength = 4096, Seed = 7,
    };

    [Fact]
    public void ForOllama_Prompt_IsGenerateWithOptionsMapped()
    {
        BackendRequest request = GenerationRequestBuilder.ForOllama(new GenerationInput("llama3.2:1b") { Prompt = "hi", Options = AllOptions });

        Assert.Equal(BackendApi.OllamaGenerate, request.Api);
        Assert.True(request.Stream);
        Assert.Equal(
            """{"model":"llama3.2:1b","prompt":"hi","stream":true,"options":{"num_predict":32,"temperature":0.5,"top_p":0.9,"top_k":40,"stop":["\n\n"],"num_ctx":4096,"seed":7}}""",
            Json(request));
    }

    [Fact]
    public void ForOllama_Messages_IsChatWithoutOptionsWhenNoneSet()
    {
        BackendRequest request = GenerationRequestBuilder.ForOllama(new GenerationInput("m")
        {
            Messages = [new ChatMessage("user", "hi")],
            Stream = false,
        });

        Assert.Equal(BackendApi.OllamaChat, request.Api);
        Assert.False(request.Stream);
        Assert.Equal("""{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":false}""", Json(request));
    }

    [Fact]
    public void ForOpenAI_StreamingChat_AsksForUsage()
    {
        BackendRequest request = GenerationRequestBuilder.ForOpenAI(new GenerationInput("m")
        {
            Messages = [new ChatMessage("user", "hi")],
            Options = AllOptions,
        });

        Assert.Equal(BackendApi.OpenAIChatCompletions, request.Api);
        Assert.Equal(
            """{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true},"max_tokens":32,"temperature":0.5,"top_p":0.9,"top_k":40,"stop":["\n\n"],"seed":7}""",
            Json(request));
    }

    [Fact]
    public void ForOpenAI_NonStreamingPrompt_IsCompletionWithoutStreamOptions()
    {
        BackendRequest request = GenerationRequestBuilder.ForOpenAI(new GenerationInput("m") { Prompt = "p", Stream = false });

        Assert.Equal(BackendApi.OpenAICompletions, request.Api);
        Assert.Equal("""{"model":"m","prompt":"p","stream":false}""", Json(request));
    }

    /// <summary>
    /// What reaches each kind of backend from what a surface hands the one builder: the gRPC
    /// surface's typed options, the WebSocket's Ollama options as the client wrote them, or both.
    /// Columns: the input, then the Ollama body, the OpenAI body and the expected tokens.
    /// </summary>
    public static TheoryData<string, GenerationInput, string, string, int?> SurfaceInputs => new()
    {
        {
            "typed (gRPC): every option; num_ctx has no OpenAI field",
            new GenerationInput("m") { Prompt = "p", Options = AllOptions with { PresencePenalty = 0.5, FrequencyPenalty = 0.25 } },
            """{"model":"m","prompt":"p","stream":true,"options":{"num_predict":32,"temperature":0.5,"top_p":0.9,"top_k":40,"stop":["\n\n"],"num_ctx":4096,"seed":7,"presence_penalty":0.5,"frequency_penalty":0.25}}""",
            """{"model":"m","prompt":"p","stream":true,"stream_options":{"include_usage":true},"max_tokens":32,"temperature":0.5,"top_p":0.9,"top_k":40,"stop":["\n\n"],"seed":7,"presence_penalty":0.5,"frequency_penalty":0.25}""",
            32
        },
        {
            "raw (WebSocket): Ollama gets them as written; OpenAI the ones it has a field for, top_k included",
            new GenerationInput("m") { Prompt = "p", Options = new() { OllamaJson = """{"num_predict":16,"temperature":0.70,"top_k":20,"num_ctx":8192,"seed":3,"presence_penalty":1,"frequency_penalty":0.5,"stop":["x"],"mirostat":2}""" } },
            """{"model":"m","prompt":"p","stream":true,"options":{"num_predict":16,"temperature":0.70,"top_k":20,"num_ctx":8192,"seed":3,"presence_penalty":1,"frequency_penalty":0.5,"stop":["x"],"mirostat":2}}""",
            """{"model":"m","prompt":"p","stream":true,"stream_options":{"include_usage":true},"max_tokens":16,"temperature":0.70,"top_k":20,"seed":3,"presence_penalty":1,"frequency_penalty":0.5,"stop":["x"]}""",
            16
        },
        {
            "raw num_predict -1 (no limit): no OpenAI spelling, no expected length",
            new GenerationInput("m") { Prompt = "p", Options = new() { OllamaJson = """{"num_predict":-1}""" } },
            """{"model":"m","prompt":"p","stream":true,"options":{"num_predict":-1}}""",
            """{"model":"m","prompt":"p","stream":true,"stream_options":{"include_usage":true}}""",
            null
        },
        {
            "typed and raw: the typed option wins, the other raw ones follow",
            new GenerationInput("m") { Prompt = "p", Stream = false, Options = new() { Temperature = 0, OllamaJson = """{"temperature":0.7,"top_k":5}""" } },
            """{"model":"m","prompt":"p","stream":false,"options":{"temperature":0,"top_k":5}}""",
            """{"model":"m","prompt":"p","stream":false,"temperature":0,"top_k":5}""",
            null
        },
        {
            "raw messages (WebSocket): fields the router does not model reach both APIs; text as written",
            new GenerationInput("m") { MessagesJson = """[{"role":"user","content":"¿qué hay en la imagen?","images":["aGk="]}]""" },
            """{"model":"m","messages":[{"role":"user","content":"¿qué hay en la imagen?","images":["aGk="]}],"stream":true}""",
            """{"model":"m","messages":[{"role":"user","content":"¿qué hay en la imagen?","images":["aGk="]}],"stream":true,"stream_options":{"include_usage":true}}""",
            null
        },
    };

    [Theory]
    [MemberData(nameof(SurfaceInputs))]
    public void Build_SurfaceInput_WhatReachesEachBackend(string row, GenerationInput input, string ollama, string openAI, int? expectedTokens)
    {
        var request = GenerationRequestBuilder.Build(input, Router.Actors.Routing.RoutingHints.Default);

        Assert.True(ollama == Json(request.Native), $"{row}: Ollama got {Json(request.Native)}");
        Assert.True(openAI == Json(request.OpenAI!), $"{row}: OpenAI got {Json(request.OpenAI!)}");
        Assert.Equal(expectedTokens, request.ExpectedTokens);
        Assert.Equal(input.IsChat ? BackendApi.OllamaChat : BackendApi.OllamaGenerate, request.Native.Api);
        Assert.Equal(input.IsChat ? BackendApi.OpenAIChatCompletions : BackendApi.OpenAICompletions, request.OpenAI!.Api);
    }

    [Fact]
    public void ForOllama_NeitherPromptNorMessages_Throws()
    {
        Assert.Throws<ArgumentException>(() => GenerationRequestBuilder.ForOllama(new GenerationInput("m")));
    }

    [Theory]
    [InlineData(BackendApi.OllamaEmbed, """{"model":"e","input":["a","b"]}""")]
    [InlineData(BackendApi.OpenAIEmbeddings, """{"model":"e","input":["a","b"]}""")]
    public void EmbeddingBuilders_WriteBatchedInput(BackendApi api, string expected)
    {
        BackendRequest request = api == BackendApi.OllamaEmbed
            ? EmbeddingRequestBuilder.ForOllama("e", ["a", "b"])
            : EmbeddingRequestBuilder.ForOpenAI("e", ["a", "b"]);

        Assert.Equal(api, request.Api);
        Assert.Equal(expected, Json(request));
    }

    [Theory]
    [InlineData(BackendApi.OllamaEmbed, """{"model":"e","embeddings":[[1,2],[3,4]]}""")]
    [InlineData(BackendApi.OpenAIEmbeddings, """{"data":[{"embedding":[3,4],"index":1},{"embedding":[1,2],"index":0}]}""")]
    public void ReadEmbeddings_ReturnsVectorsInInputOrder(BackendApi api, string body)
    {
        var vectors = BackendResponseReader.ReadEmbeddings(api, System.Text.Encoding.UTF8.GetBytes(body));

        Assert.Equal([1f, 2f], vectors.Value[0]);
        Assert.Equal([3f, 4f], vectors.Value[1]);
    }

    [Fact]
    public void ReadEmbeddings_Malformed_IsProtocolError()
    {
        var vectors = BackendResponseReader.ReadEmbeddings(BackendApi.OllamaEmbed, """{"embeddings":"no"}"""u8.ToArray());

        Assert.Equal(BackendErrorKind.Protocol, vectors.Error.Kind);
    }

    private static string Json(BackendRequest request)
    {
        using JsonDocument document = JsonDocument.Parse(request.Body); // valid JSON
        return System.Text.Encoding.UTF8.GetString(request.Body.Span);
    }
}
