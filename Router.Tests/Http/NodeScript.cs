using System.Diagnostics;
using System.Text;

namespace Router.Tests.Http;

/// <summary>Runs one of the node scripts in Router.Tests/e2e against a host, with a time limit.</summary>
internal static class NodeScript
{
    public sealed record Outcome(int ExitCode, string Output, string Errors)
    {
        public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Output}\n--- stderr\n{Errors}";
    }

    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "OllamaProxy.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("OllamaProxy.sln not found above " + AppContext.BaseDirectory);
    }

    public static async Task<Outcome> RunAsync(string script, Uri baseAddress, TimeSpan timeout)
    {
        var e2e = Path.Combine(RepoRoot(), "Router.Tests", "e2e");
        Assert.True(Directory.Exists(Path.Combine(e2e, "node_modules")),
            $"{e2e}/node_modules is missing: run `npm install` there (scripts/test does).");

        var start = new ProcessStartInfo("node", [Path.Combine(e2e, script), baseAddress.ToString().TrimEnd('/')])
        {
            WorkingDirectory = e2e,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        var output = new StringBuilder();
        var errors = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (errors) errors.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var limit = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
            process.WaitForExit(); // drains the redirected output
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"{script} did not finish within {timeout.TotalSeconds} s.\n{output}\n{errors}");
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
        lock (output) lock (errors) return new Outcome(process.ExitCode, output.ToString(), errors.ToString());
    }
}
