using Router.Tests.Http.Fakes;

namespace Router.Tests.Http;

/// <summary>
/// The official npm clients (openai, ollama, ws) against the router on a real port: each script
/// asserts what its client sees and exits non-zero on the first difference.
/// </summary>
public sealed class NodeClientTests : IAsyncLifetime
{
    private static readonly TimeSpan ScriptLimit = TimeSpan.FromSeconds(90);
    private HttpSurfaceHost _host = null!;

    public async Task InitializeAsync() => _host = await HttpSurfaceHost.StartAsync(new FakeInferenceRouter(), new FakeRouterAdmin());

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Theory]
    [InlineData("http-openai.mjs", 10)]
    [InlineData("http-ollama.mjs", 12)]
    [InlineData("http-ws.mjs", 6)]
    public async Task OfficialClient_Script_AllChecksPass(string script, int checks)
    {
        var outcome = await NodeScript.RunAsync(script, _host.BaseAddress, ScriptLimit);

        Assert.True(outcome.ExitCode == 0, outcome.ToString());
        Assert.Equal(checks, outcome.Output.Split('\n').Count(line => line.StartsWith("ok ", StringComparison.Ordinal)));
    }
}
