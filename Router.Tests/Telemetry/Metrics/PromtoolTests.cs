using System.Diagnostics;
using Router.Telemetry.Metrics;

namespace Router.Tests.Telemetry.Metrics;

/// <summary>The official linter on our exposition (promtool comes from Debian's prometheus package, scripts/setup.d/promtool.sh).</summary>
public sealed class PromtoolTests
{
    [Fact]
    public async Task CheckMetrics_PopulatedRouter_ValidWithoutLintProblems()
    {
        using var metrics = new RouterMetrics(new RouterMetricsState());
        RouterMetricsTests.Populate(metrics);
        var exposition = await RouterMetricsTests.ScrapeAsync(metrics);

        var (exitCode, output) = await RunPromtoolAsync(exposition);

        Assert.True(exitCode == 0, $"promtool exited with {exitCode}:\n{output}\n--- exposition ---\n{exposition}");
        Assert.Equal("", output.Trim());
    }

    [Fact]
    public async Task CheckMetrics_CounterWithoutTotal_PromtoolComplains()
    {
        // The linter is live, not a rubber stamp: the same rule our names follow, broken by hand.
        var (exitCode, output) = await RunPromtoolAsync("# HELP requests Requests.\n# TYPE requests counter\nrequests 1\n");

        Assert.NotEqual(0, exitCode);
        Assert.Contains("counter metrics should have \"_total\" suffix", output, StringComparison.Ordinal);
    }

    internal static async Task<(int ExitCode, string Output)> RunPromtoolAsync(string exposition)
    {
        var start = new ProcessStartInfo("promtool")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("check");
        start.ArgumentList.Add("metrics");

        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.StandardInput.WriteAsync(exposition.AsMemory(), timeout.Token);
        process.StandardInput.Close();
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
