using System.Text;
using Router.Gateway.Http;

namespace Router.Tests.Http;

/// <summary>The one pass over a request body that finds what routing needs and rejects what is not JSON.</summary>
public sealed class RequestFieldsTests
{
    private static InferenceEndpoint.RequestFields Read(string body, RoutedApi api, out HttpError? error) =>
        InferenceEndpoint.ReadFields(Encoding.UTF8.GetBytes(body), api, out error);

    [Fact]
    public void Ollama_NumPredictInsideOptions_IsTheExpectedAnswerLength()
    {
        var fields = Read("""{"options":{"temperature":0.2,"num_predict":64,"stop":["\n"]},"model":"llama3.2","prompt":"hi"}""", RoutedApi.OllamaGenerate, out var error);

        Assert.Null(error);
        Assert.Equal("llama3.2", fields.Model);
        Assert.True(fields.Stream); // Ollama streams unless told otherwise
        Assert.Equal(64, fields.ExpectedTokens);
    }

    [Theory]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":10,"max_completion_tokens":20}""", 20)]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":10}""", 10)]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":0}""", null)]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":null}""", null)]
    public void OpenAI_MaxCompletionTokensBeforeMaxTokens(string body, int? expected)
    {
        var fields = Read(body, RoutedApi.OpenAIChat, out var error);

        Assert.Null(error);
        Assert.Equal(expected, fields.ExpectedTokens);
        Assert.False(fields.Stream); // OpenAI answers whole unless told otherwise
    }

    [Theory]
    [InlineData("chat", """{"model":"m","messages":{"role":"user","content":"hi"}}""", "messages")]
    [InlineData("chat", """{"model":"m","messages":"hi"}""", "messages")]
    [InlineData("chat", """{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":"ten"}""", "max_tokens")]
    [InlineData("chat", """{"model":"m","messages":[{"role":"user","content":"hi"}],"max_completion_tokens":2.5}""", "max_completion_tokens")]
    [InlineData("embeddings", """{"model":"m","input":5}""", "input")]
    [InlineData("completions", """{"model":"m","prompt":{"text":"hi"}}""", "prompt")]
    [InlineData("generate", """{"model":"m","prompt":["hi"]}""", "prompt")]
    [InlineData("generate", """{"model":"m","prompt":"hi","options":{"num_predict":"many"}}""", "options.num_predict")]
    [InlineData("generate", """{"model":"m","prompt":"hi","options":{"temperature":0.2,"stop":"\n"}}""", "options.stop")]
    [InlineData("generate", """{"model":"m","prompt":"hi","options":{"stop":["a",1]}}""", "options.stop")]
    [InlineData("generate", """{"model":"m","prompt":"hi","options":{"temperature":"0.2"}}""", "options.temperature")]
    [InlineData("ollama-chat", """{"model":"m","messages":[],"options":{"use_mmap":"yes"}}""", "options.use_mmap")]
    [InlineData("embed", """{"model":"m","input":"hi","options":{"num_ctx":"4k"}}""", "options.num_ctx")]
    [InlineData("generate", """{"model":"m","prompt":"hi","options":[64]}""", "options")]
    [InlineData("ollama-chat", """{"model":"m","messages":"hi"}""", "messages")]
    [InlineData("embed", """{"model":"m","input":true}""", "input")]
    public void WronglyTypedField_Is400NamingTheField(string api, string body, string field)
    {
        // Passed on, such a body gets a 400 from one server and a 500 from another; a 500 would
        // count against the device's health and be retried on every other device.
        var routed = api switch
        {
            "chat" => RoutedApi.OpenAIChat,
            "embeddings" => RoutedApi.OpenAIEmbeddings,
            "completions" => RoutedApi.OpenAICompletions,
            "generate" => RoutedApi.OllamaGenerate,
            "ollama-chat" => RoutedApi.OllamaChat,
            _ => RoutedApi.OllamaEmbed,
        };

        Read(body, routed, out var error);

        Assert.NotNull(error);
        Assert.Equal(400, error.Status);
        Assert.Equal("invalid_field", error.Code);
        Assert.Equal(field, error.Param);
    }

    [Theory]
    [InlineData("completions", """{"model":"m","prompt":["a","b"]}""")]
    [InlineData("completions", """{"model":"m","prompt":[[1,2,3]]}""")]
    [InlineData("embeddings", """{"model":"m","input":["a","b"]}""")]
    [InlineData("generate", """{"model":"m","prompt":"hi","options":{"num_predict":-1}}""")]
    [InlineData("generate", """{"model":"m","prompt":"hi","options":{"num_predict":2.5,"top_k":40,"use_mmap":false,"stop":["\n","###"],"seed":null}}""")]
    [InlineData("generate", """{"model":"m","prompt":"hi","options":{"not_an_ollama_option":"anything","a_name_far_longer_than_any_option_ollama_knows":1}}""")]
    [InlineData("generate", """{"model":"m","prompt":"hi","options":null}""")]
    public void EveryShapeTheApisAccept_PassesThrough(string api, string body)
    {
        var routed = api switch
        {
            "completions" => RoutedApi.OpenAICompletions,
            "embeddings" => RoutedApi.OpenAIEmbeddings,
            _ => RoutedApi.OllamaGenerate,
        };

        var fields = Read(body, routed, out var error);

        Assert.Null(error);
        Assert.Equal("m", fields.Model);
    }

    [Fact]
    public void EscapedPropertyNames_AreTheSameFields()
    {
        var fields = Read("""{"mod\u0065l":"llama3.2","messages":[{"role":"user","content":"hi"}],"str\u0065am":true}""", RoutedApi.OpenAIChat, out var error);

        Assert.Null(error);
        Assert.Equal("llama3.2", fields.Model);
        Assert.True(fields.Stream);
    }

    [Theory]
    [InlineData("""{"model":"m","messages":[]} trailing""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"]}""")]
    [InlineData("""{"model":"m","messages":[],""")]
    [InlineData("")]
    [InlineData("   ")]
    public void MalformedAnywhere_IsInvalidJson_EvenAfterTheFieldsWereFound(string body)
    {
        Read(body, RoutedApi.OpenAIChat, out var error);

        Assert.NotNull(error);
        Assert.Equal(400, error.Status);
        Assert.Equal("invalid_json", error.Code);
    }

    [Theory]
    [InlineData("""["model","messages"]""")]
    [InlineData("42")]
    public void RootNotAnObject_IsRejectedAsSuch(string body)
    {
        Read(body, RoutedApi.OpenAIChat, out var error);

        Assert.NotNull(error);
        Assert.Contains("must be a JSON object", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MalformedBodyWithoutModel_ReportsTheSyntaxFirst()
    {
        Read("""{"messages":[}""", RoutedApi.OpenAIChat, out var error);

        Assert.NotNull(error);
        Assert.Equal("invalid_json", error.Code);
    }

    [Theory]
    [InlineData("""{"model":"m","messages":null}""", "messages")]
    [InlineData("""{"model":7,"messages":[]}""", "model")]
    public void NullRequiredField_OrModelNotAString_IsMissing(string body, string field)
    {
        Read(body, RoutedApi.OpenAIChat, out var error);

        Assert.NotNull(error);
        Assert.Equal(field, error.Param);
    }

    [Fact]
    public void StreamNull_KeepsTheDefault_AndEmbeddingsNeverStream()
    {
        Assert.True(Read("""{"model":"m","prompt":"p","stream":null}""", RoutedApi.OllamaGenerate, out _).Stream);
        var embed = Read("""{"model":"m","input":"p","stream":true}""", RoutedApi.OllamaEmbed, out var error);
        Assert.Null(error);
        Assert.False(embed.Stream);
    }

    [Theory]
    [InlineData("""{"model":"m"}""", "Load")]
    [InlineData("""{"model":"m","prompt":""}""", "Load")]
    [InlineData("""{"model":"m","prompt":null,"stream":true}""", "Load")]
    [InlineData("""{"model":"m","keep_alive":-1}""", "Load")]
    [InlineData("""{"model":"m","keep_alive":"5m"}""", "Load")]
    [InlineData("""{"model":"m","keep_alive":0}""", "Unload")]
    [InlineData("""{"model":"m","prompt":"","keep_alive":"0s"}""", "Unload")]
    [InlineData("""{"model":"m","prompt":"hi","keep_alive":0}""", "None")]
    [InlineData("""{"model":"m","images":["aGk="]}""", "None")]
    public void OllamaGenerate_WithoutPrompt_LoadsOrUnloadsTheModel(string body, string expected)
    {
        var fields = Read(body, RoutedApi.OllamaGenerate, out var error);

        Assert.Null(error);
        Assert.Equal(expected, fields.Lifecycle.ToString());
        if (fields.Lifecycle != ModelLifecycle.None) Assert.False(fields.Stream); // Ollama answers one JSON object
    }

    [Theory]
    [InlineData("""{"model":"m","messages":[]}""", "Load")]
    [InlineData("""{"model":"m"}""", "Load")]
    [InlineData("""{"model":"m","messages":[],"keep_alive":0}""", "Unload")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"keep_alive":0}""", "None")]
    public void OllamaChat_WithoutMessages_LoadsOrUnloadsTheModel(string body, string expected)
    {
        var fields = Read(body, RoutedApi.OllamaChat, out var error);

        Assert.Null(error);
        Assert.Equal(expected, fields.Lifecycle.ToString());
    }

    [Theory]
    [InlineData("""{"model":"m","messages":[]}""", "messages")]
    [InlineData("""{"model":"m","input":[]}""", "input")]
    [InlineData("""{"model":"m","input":""}""", "input")]
    public void OpenAI_EmptyConversationOrInput_Is400NamingTheField(string body, string field)
    {
        var api = field == "messages" ? RoutedApi.OpenAIChat : RoutedApi.OpenAIEmbeddings;

        Read(body, api, out var error);

        Assert.NotNull(error);
        Assert.Equal((400, "invalid_field", field), (error.Status, error.Code, error.Param));
        Assert.Contains("empty", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OpenAI_WithoutMessages_IsStillMissing_NotAModelLoad()
    {
        Read("""{"model":"m"}""", RoutedApi.OpenAIChat, out var error);

        Assert.NotNull(error);
        Assert.Equal(("missing_field", "messages"), (error.Code, error.Param));
    }

    [Theory]
    [InlineData("")]
    [InlineData(" \r\n ")]
    public void EmptyBody_SaysItIsEmpty(string body)
    {
        Read(body, RoutedApi.OllamaChat, out var error);

        Assert.NotNull(error);
        Assert.Equal("The request body is empty: send a JSON object.", error.Message);
    }
}
