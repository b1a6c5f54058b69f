using System.Text;
using System.Text.Json;
using Router.Gateway.Simulation;
using static Router.Tests.Backends.BackendTestKit;

namespace Router.Tests.Simulation;

/// <summary>
/// A simulated answer is bounded by the model's context, as a real server's is: asking for a
/// billion tokens gets an answer that ends when prompt and answer fill the context, and the text
/// leaves as it is generated instead of being built whole in memory first.
/// </summary>
public sealed class SimulatedContextTests
{
    private const string Llama = "llama3.2:1b";

    private static async Task<JsonElement> PostAsync(HttpClient http, SimulatedBackend sim, string path, string body)
    {
        using var response = await http.PostAsync(new Uri(sim.Endpoint, path), new StringContent(body, Encoding.UTF8, "application/json"), Timeout());
        var text = await response.Content.ReadAsStringAsync(Timeout());
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    [Theory]
    [InlineData("1e9")]
    [InlineData("2147483647")]
    [InlineData("-1")]           // Ollama: no limit
    [InlineData("-2")]           // Ollama: fill the context
    public async Task Generate_HugeNumPredict_EndsWhereTheDefaultContextIsFull(string numPredict)
    {
        await using var sim = await SimulatedBackend.StartAsync(DeviceProfile.Nvidia, new SimulatorOptions { TimeScale = 0 });
        using var http = new HttpClient();

        var answer = await PostAsync(http, sim, "api/generate", $$$"""{"model":"{{{Llama}}}","prompt":"tell me everything","stream":false,"options":{"num_predict":{{{numPredict}}}}}""");

        var promptTokens = answer.GetProperty("prompt_eval_count").GetInt32();
        var evalCount = answer.GetProperty("eval_count").GetInt32();
        Assert.Equal(SimulatorOptions.OllamaDefaultContextLength, promptTokens + evalCount);
        Assert.Equal("length", answer.GetProperty("done_reason").GetString());
        Assert.Equal(evalCount, answer.GetProperty("response").GetString()!.Split(' ').Length);
        Assert.Equal(evalCount, sim.TokensWritten);
    }

    [Fact]
    public async Task Stream_HugeNumPredict_OneLinePerTokenUpToTheContext()
    {
        await using var sim = await SimulatedBackend.StartAsync(DeviceProfile.Nvidia, new SimulatorOptions { TimeScale = 0 });
        using var http = new HttpClient();

        using var response = await http.PostAsync(new Uri(sim.Endpoint, "api/chat"),
            new StringContent($$$"""{"model":"{{{Llama}}}","messages":[{"role":"user","content":"go on"}],"options":{"num_predict":1000000000,"num_ctx":8192}}"""), Timeout());
        var lines = (await response.Content.ReadAsStringAsync(Timeout())).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        using var last = JsonDocument.Parse(lines[^1]);
        var evalCount = last.RootElement.GetProperty("eval_count").GetInt32();
        Assert.Equal(8192, last.RootElement.GetProperty("prompt_eval_count").GetInt32() + evalCount);
        Assert.Equal(evalCount, lines.Length - 1);
        Assert.Equal("length", last.RootElement.GetProperty("done_reason").GetString());
    }

    [Fact]
    public async Task OpenAI_MaxTokensAtInt32Max_FinishesWithLengthAtTheContext()
    {
        await using var sim = await SimulatedBackend.StartAsync(DeviceProfile.Nvidia, new SimulatorOptions { TimeScale = 0 });
        using var http = new HttpClient();

        var answer = await PostAsync(http, sim, "v1/chat/completions", $$"""{"model":"{{Llama}}","messages":[{"role":"user","content":"go on"}],"max_tokens":2147483647}""");

        var usage = answer.GetProperty("usage");
        Assert.Equal(SimulatorOptions.OllamaDefaultContextLength, usage.GetProperty("total_tokens").GetInt32());
        Assert.Equal("length", answer.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    [Theory]
    [InlineData(Llama, 65536, 65536)]
    [InlineData("qwen2.5:0.5b", 65536, 32768)]    // past what the model was trained for: its own length
    public async Task Generate_NumCtx_RaisesTheContextUpToTheModels(string model, int numCtx, int context)
    {
        await using var sim = await SimulatedBackend.StartAsync(DeviceProfile.Nvidia, new SimulatorOptions { TimeScale = 0 });
        using var http = new HttpClient();

        var answer = await PostAsync(http, sim, "api/generate", $$$"""{"model":"{{{model}}}","prompt":"x","stream":false,"options":{"num_predict":-1,"num_ctx":{{{numCtx}}}}}""");

        Assert.Equal(context, answer.GetProperty("prompt_eval_count").GetInt32() + answer.GetProperty("eval_count").GetInt32());
    }

    [Fact]
    public async Task Generate_NotStreamed_TextLeavesBeforeTheAnswerIsDone()
    {
        // Real time, so tokens take their time (12.5 ms each on this device): the first words
        // arrive while thousands are still to come.
        await using var sim = await SimulatedBackend.StartAsync(DeviceProfile.Nvidia, new SimulatorOptions { TimeScale = 1 });
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(sim.Endpoint, "api/generate"))
        {
            Content = new StringContent($$$"""{"model":"{{{Llama}}}","prompt":"x","stream":false,"options":{"num_predict":1e9}}"""),
        };

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Timeout());
        await using var body = await response.Content.ReadAsStreamAsync(Timeout());
        var received = new StringBuilder();
        var buffer = new byte[4096];
        while (!received.ToString().Contains("\"response\":\"", StringComparison.Ordinal) || received.ToString().EndsWith("\"response\":\"", StringComparison.Ordinal))
        {
            var read = await body.ReadAsync(buffer, Timeout());
            Assert.True(read > 0, "the answer ended early: " + received);
            received.Append(Encoding.UTF8.GetString(buffer, 0, read));
        }

        Assert.Null(response.Content.Headers.ContentLength);
        Assert.Equal(1, sim.ActiveRequests);
        Assert.InRange(sim.TokensWritten, 1, SimulatorOptions.OllamaDefaultContextLength / 2);
    }

    [Fact]
    public async Task Show_ReportsTheTrainedAndTheDefaultContext()
    {
        await using var sim = await SimulatedBackend.StartAsync(DeviceProfile.Npu, new SimulatorOptions { TimeScale = 0 });
        using var http = new HttpClient();

        var llama = await PostAsync(http, sim, "api/show", $$"""{"model":"{{Llama}}"}""");
        var qwen = await PostAsync(http, sim, "api/show", """{"model":"qwen2.5:0.5b"}""");
        var embed = await PostAsync(http, sim, "api/show", """{"model":"nomic-embed-text"}""");

        Assert.Equal(131072, llama.GetProperty("model_info").GetProperty("llama.context_length").GetInt32());
        Assert.Equal(32768, qwen.GetProperty("model_info").GetProperty("qwen2.context_length").GetInt32());
        Assert.Equal(2048, embed.GetProperty("model_info").GetProperty("nomic-bert.context_length").GetInt32());
        Assert.Contains("num_ctx 4096", llama.GetProperty("parameters").GetString(), StringComparison.Ordinal);
        Assert.Contains("num_ctx 2048", embed.GetProperty("parameters").GetString(), StringComparison.Ordinal);
    }
}
