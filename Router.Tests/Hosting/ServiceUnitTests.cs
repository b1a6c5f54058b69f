using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Router.Tests.TestKit;

namespace Router.Tests.Hosting;

/// <summary>
/// scripts/ollama-proxy.service as systemd 252's own tools see it (systemd-analyze, from
/// scripts/setup.d/systemd-analyze.sh): clean for <c>verify</c>, and sandboxed enough that
/// <c>security --offline=true</c> rates its exposure 4.0 or less. Both run on a copy whose
/// <c>ExecStart=</c> names the program built beside the tests, since <c>verify</c> checks it exists.
/// </summary>
public sealed partial class ServiceUnitTests : IDisposable
{
    private const double MaxExposure = 4.0;
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    private readonly DirectoryInfo _work = Directory.CreateTempSubdirectory("ollama-proxy-unit-");

    public void Dispose() => _work.Delete(recursive: true);

    [Fact]
    public async Task Verify_InstalledUnit_NothingToSay()
    {
        var unit = WriteUnit(Installed());

        var outcome = await AnalyzeAsync("verify", "--user", unit);

        Assert.True(outcome.ExitCode == 0 && outcome.Output.Trim().Length == 0 && outcome.Errors.Trim().Length == 0, outcome.ToString());
    }

    [Fact]
    public async Task Verify_MistypedSetting_Reported()
    {
        // The check is live: the same unit with a mistyped type does not pass.
        var unit = WriteUnit(Installed().Replace("Type=notify", "Type=notfy", StringComparison.Ordinal));

        var outcome = await AnalyzeAsync("verify", "--user", unit);

        Assert.Contains("notfy", outcome.Output + outcome.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Security_InstalledUnit_ExposureAtMostFour()
    {
        var unit = WriteUnit(Installed());

        var outcome = await AnalyzeAsync("security", "--user", "--offline=true", $"--threshold={MaxExposure * 10:0}", unit);

        Assert.True(outcome.ExitCode == 0, outcome.ToString());
        Assert.InRange(Exposure(outcome), 0, MaxExposure);
    }

    [Fact]
    public async Task Security_UnitWithoutItsSandbox_RatedOverFour()
    {
        // What the unit was before its sandbox: the rating, and the threshold, do tell them apart.
        var bare = string.Join('\n', Installed().Split('\n').TakeWhile(line => !line.StartsWith("# Sandbox.", StringComparison.Ordinal)))
            + "\n[Install]\nWantedBy=default.target\n";
        var unit = WriteUnit(bare);

        var outcome = await AnalyzeAsync("security", "--user", "--offline=true", $"--threshold={MaxExposure * 10:0}", unit);

        Assert.NotEqual(0, outcome.ExitCode);
        Assert.True(Exposure(outcome) > MaxExposure, outcome.ToString());
    }

    /// <summary>The unit as scripts/install installs it, starting the program built beside the tests.</summary>
    private static string Installed()
    {
        var program = Path.Combine(AppContext.BaseDirectory, "ollama-proxy");
        Assert.True(File.Exists(program), $"{program} is missing (Router.Tests references Router.Gateway)");
        var text = File.ReadAllText(Path.Combine(ChildProcess.RepoRoot, "scripts", "ollama-proxy.service"));
        var replaced = ExecStartProgram().Replace(text, "ExecStart=" + program + " ", 1);
        Assert.NotEqual(text, replaced);
        return replaced;
    }

    private string WriteUnit(string text)
    {
        var path = Path.Combine(_work.FullName, "ollama-proxy.service");
        File.WriteAllText(path, text);
        return path;
    }

    private async Task<ChildProcess.Outcome> AnalyzeAsync(params string[] args)
    {
        var start = new ProcessStartInfo("systemd-analyze");
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        // The --user tools look up the user's runtime directory, even offline.
        var runtime = Directory.CreateDirectory(Path.Combine(_work.FullName, "runtime"));
        start.Environment["XDG_RUNTIME_DIR"] = runtime.FullName;
        start.Environment["SYSTEMD_COLORS"] = "0";
        return await ChildProcess.RunAsync(start, Limit, "systemd-analyze " + string.Join(' ', args));
    }

    private static double Exposure(ChildProcess.Outcome outcome)
    {
        var match = OverallExposure().Match(outcome.Output);
        Assert.True(match.Success, outcome.ToString());
        return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"^ExecStart=\S+ ", RegexOptions.Multiline)]
    private static partial Regex ExecStartProgram();

    [GeneratedRegex(@"Overall exposure level for ollama-proxy\.service: (\d+\.\d+)")]
    private static partial Regex OverallExposure();
}
