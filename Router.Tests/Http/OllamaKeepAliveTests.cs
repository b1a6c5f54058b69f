using System.Text.Json;
using Router.Gateway.Http;

namespace Router.Tests.Http;

/// <summary>keep_alive 0 is how Ollama clients unload a model; every spelling of zero must count.</summary>
public sealed class OllamaKeepAliveTests
{
    [Theory]
    [InlineData("0", true)]
    [InlineData("0.0", true)]
    [InlineData("\"0\"", true)]
    [InlineData("\"0s\"", true)]
    [InlineData("\"0m\"", true)]
    [InlineData("\"0m0s\"", true)]
    [InlineData("\"-0\"", true)]
    [InlineData("-1", false)]
    [InlineData("300", false)]
    [InlineData("\"5m\"", false)]
    [InlineData("\"10s\"", false)]
    [InlineData("\"-1m\"", false)]
    [InlineData("\"\"", false)]
    [InlineData("\"forever\"", false)]
    [InlineData("null", false)]
    [InlineData("false", false)]
    public void IsZero_OnlyForEverySpellingOfZero(string json, bool zero)
    {
        using var document = JsonDocument.Parse(json);
        var reader = new Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(json));
        reader.Read();

        Assert.Equal(zero, OllamaKeepAlive.IsZero(document.RootElement));
        Assert.Equal(zero, OllamaKeepAlive.IsZero(ref reader));
    }
}
