using Router.Tests.TestKit;
namespace Router.Tests.EndToEnd;

/// <summary>The <c>ollama-proxy</c> CLI, as a process, against the running daemon.</summary>
public sealed class CliTests : IClassFixture<RealDaemon>, IAsyncLifetime
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);
    private readonly RealDaemon _daemon;

    public CliTests(RealDaemon daemon) => _daemon = daemon;

    public Task InitializeAsync() => _daemon.ResetAsync();

    public Task DisposeAsync() => _daemon.ResetAsync();

    // The daemon's address comes from OLLAMA_PROXY_URL, as a user's shell sets it; `--url` has its own test.
    private Task<ChildProcess.Outcome> CliAsync(params string[] args) => CliProcess.RunAsync(Limit, _daemon.HttpEndpoint, args);

    private static void AssertOutputMatches(string pattern, ChildProcess.Outcome outcome) =>
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(outcome.Output, pattern), $"no match for {pattern}\n{outcome}");

    [Fact]
    public async Task Status_UrlOption_TalksToThatDaemon()
    {
        var outcome = await CliProcess.RunAsync(Limit, "status", "--url", _daemon.HttpEndpoint.ToString());

        Assert.True(outcome.ExitCode == 0, outcome.ToString());
        Assert.Contains("status:   healthy", outcome.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_RunningDaemon_HealthModeAndEachBackend()
    {
        var outcome = await CliAsync("status");

        Assert.True(outcome.ExitCode == 0, outcome.ToString());
        Assert.Contains("status:   healthy", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("mode:     balanced (in effect: balanced", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("power:    AC", outcome.Output, StringComparison.Ordinal);
        foreach (var id in RealDaemon.BackendIds)
        {
            AssertOutputMatches($@"(?m)^\s+{id}\s+healthy\s*$", outcome);
        }
    }

    [Fact]
    public async Task Backends_RunningDaemon_OneRowPerBackendWithStateAndPower()
    {
        var outcome = await CliAsync("backends");

        Assert.True(outcome.ExitCode == 0, outcome.ToString());
        foreach (var (id, hardware, watts) in new[] { ("ollama-npu", "npu", "3"), ("ollama-igpu", "igpu", "12"), ("ollama-nvidia", "nvidia", "55"), ("ollama-cpu", "cpu", "28") })
        {
            AssertOutputMatches($@"(?m)^{id}\s+{hardware}\s+healthy\s+{watts}\s+\d+\s+0\s.*llama3\.2:1b", outcome);
        }
    }

    [Fact]
    public async Task Actors_RunningDaemon_TheLiveAkkaTreeWithTypesAndMailboxes()
    {
        var outcome = await CliAsync("actors");

        Assert.True(outcome.ExitCode == 0, outcome.ToString());
        foreach (var line in new[]
        {
            "/user/routing-table  RoutingTablePublisher [UnboundedMailbox, ",
            "/user/efficiency  EfficiencyActor [UnboundedMailbox, ",
            "/user/backends  BackendsSupervisor [",
            "/user/backends/ollama-npu/backend  BackendActor [BackendMailbox, ",
            "/user/backends/ollama-cpu/backend  BackendActor [BackendMailbox, ",
        })
        {
            Assert.Contains(line, outcome.Output, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("processed", outcome.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Actors_PathOfASubtree_OnlyThatSubtree()
    {
        var outcome = await CliAsync("actors", "--path", "/user/backends");

        Assert.True(outcome.ExitCode == 0, outcome.ToString());
        Assert.StartsWith("/user/backends  BackendsSupervisor", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("/user/backends/ollama-igpu/backend  BackendActor", outcome.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("EfficiencyActor", outcome.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Actors_PathWithNoActor_FailsNamingThePath()
    {
        var outcome = await CliAsync("actors", "--path", "/user/nobody");

        Assert.NotEqual(0, outcome.ExitCode);
        Assert.Contains("no actor lives at /user/nobody", outcome.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mode_Auto_SetAndShownWithTheModeInEffect()
    {
        var outcome = await CliAsync("mode", "auto");

        Assert.True(outcome.ExitCode == 0, outcome.ToString());
        Assert.Contains("mode: auto (in effect: ", outcome.Output, StringComparison.Ordinal);
        Assert.Equal("auto", (await _daemon.GetJsonAsync("/efficiency")).GetProperty("mode").GetString());
        var shown = await CliAsync("mode");
        Assert.True(shown.ExitCode == 0, shown.ToString());
        Assert.StartsWith("mode: auto", shown.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mode_Bogus_ExitCode3ListingTheValidModes()
    {
        var outcome = await CliAsync("mode", "bogus");

        Assert.True(outcome.ExitCode == 3, outcome.ToString());
        Assert.Contains("bogus", outcome.Errors, StringComparison.Ordinal);
        foreach (var mode in new[] { "performance", "balanced", "efficiency", "quiet", "ultra-efficiency", "auto" })
        {
            Assert.Contains(mode, outcome.Errors, StringComparison.Ordinal);
        }

        Assert.Equal("balanced", (await _daemon.GetJsonAsync("/efficiency")).GetProperty("mode").GetString());
    }

    [Fact]
    public async Task Explain_CriticalLatencyCritical_NvidiaWithReasonAndAlternatives()
    {
        var outcome = await CliAsync("explain", "--model", "llama3.2:1b", "--priority", "critical", "--latency-critical");

        Assert.True(outcome.ExitCode == 0, outcome.ToString());
        AssertOutputMatches(@"(?m)^backend:\s+ollama-nvidia\s*$", outcome);
        AssertOutputMatches(@"(?m)^reason:\s+latency-critical\s*$", outcome);
        AssertOutputMatches(@"(?m)^mode:\s+balanced\s*$", outcome);
        AssertOutputMatches(@"(?m)^estimate:\s+\d+(\.\d+)? ms, 55 W, ", outcome);
        AssertOutputMatches(@"(?m)^alternatives:\s+ollama-", outcome);
    }

    [Fact]
    public async Task Explain_UnknownModel_ExitCode3NamingTheModel()
    {
        var outcome = await CliAsync("explain", "--model", "missing-model:7b");

        Assert.True(outcome.ExitCode == 3, outcome.ToString());
        Assert.Contains("missing-model:7b", outcome.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Explain_InvalidPriority_ExitCode3NamingWhatWasGiven()
    {
        var outcome = await CliAsync("explain", "--model", "llama3.2:1b", "--priority", "urgent");

        Assert.True(outcome.ExitCode == 3, outcome.ToString());
        // What the user typed, not the HTTP header it stands for, and no claim that nothing can serve.
        Assert.Contains("priority has the invalid value 'urgent'", outcome.Errors, StringComparison.Ordinal);
        Assert.DoesNotContain("X-Priority", outcome.Errors, StringComparison.Ordinal);
        Assert.DoesNotContain("no backend", outcome.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_NoDaemonThere_ExitCode1SayingSo()
    {
        // A port that was just free: nothing listens there.
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        var port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();

        var outcome = await CliProcess.RunAsync(Limit, new Uri($"http://127.0.0.1:{port}"), "status");

        Assert.True(outcome.ExitCode == 1, outcome.ToString());
        Assert.Contains("cannot reach the daemon", outcome.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Daemon_InvalidConfigFile_ExitCode2NamingFileAndLine()
    {
        var dir = Directory.CreateTempSubdirectory("ollama-proxy-e2e-");
        try
        {
            var file = Path.Combine(dir.FullName, "broken-router.conf");
            await File.WriteAllTextAsync(file, "server {\n  host = \"127.0.0.1\"\n  http-port = \"eighty\"\n}\n");

            var outcome = await CliProcess.RunAsync(Limit, "--config", file, "--simulate", "--time-scale", "0", "--http-port", "0", "--grpc-port", "0");

            Assert.True(outcome.ExitCode == 2, outcome.ToString());
            Assert.Contains("broken-router.conf:3", outcome.Errors, StringComparison.Ordinal);
            Assert.Contains("http-port", outcome.Errors, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
