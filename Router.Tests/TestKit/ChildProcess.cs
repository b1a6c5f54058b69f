using System.Diagnostics;
using System.Text;

namespace Router.Tests.TestKit;

/// <summary>
/// Runs a program the tests drive (a node client, the CLI) to its end with a time limit, capturing
/// both output streams; on timeout the test fails and the whole process tree is killed.
/// </summary>
internal static class ChildProcess
{
    public sealed record Outcome(int ExitCode, string Output, string Errors)
    {
        public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Output}\n--- stderr\n{Errors}";
    }

    /// <summary>The checkout's root (where OllamaProxy.sln is), found above the test assembly.</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <param name="what">How to name the run in a timeout failure.</param>
    public static async Task<Outcome> RunAsync(ProcessStartInfo start, TimeSpan timeout, string what)
    {
        ArgumentNullException.ThrowIfNull(start);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        using var process = Process.Start(start) ?? throw new InvalidOperationException(start.FileName + " did not start");
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
            Assert.Fail($"{what} did not finish within {timeout.TotalSeconds} s.\n{output}\n{errors}");
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }

        lock (output) lock (errors) return new Outcome(process.ExitCode, output.ToString(), errors.ToString());
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "OllamaProxy.sln"))) return dir.FullName;
        }

        throw new InvalidOperationException("OllamaProxy.sln not found above " + AppContext.BaseDirectory);
    }
}
