using System.Diagnostics;
using System.Text;

namespace Router.Tests.EndToEnd;

/// <summary>Runs the gateway's program (<c>ollama-proxy.dll</c>, copied next to the tests) with <c>dotnet</c>, with a time limit.</summary>
internal static class CliProcess
{
    public sealed record Outcome(int ExitCode, string Output, string Errors)
    {
        public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Output}\n--- stderr\n{Errors}";
    }

    public static string GatewayDll
    {
        get
        {
            var dll = Path.Combine(AppContext.BaseDirectory, "ollama-proxy.dll");
            Assert.True(File.Exists(dll), $"{dll} is missing (Router.Tests references Router.Gateway)");
            return dll;
        }
    }

    public static Task<Outcome> RunAsync(TimeSpan timeout, params string[] args) => RunAsync(timeout, null, args);

    /// <summary>Runs with <paramref name="url"/> as <c>OLLAMA_PROXY_URL</c> (the CLI's default daemon address).</summary>
    public static async Task<Outcome> RunAsync(TimeSpan timeout, Uri? url, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(GatewayDll);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        // The CLI reads OLLAMA_PROXY_URL and the daemon OLLAMA_PROXY_* overrides: none may leak in from the test run.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("OLLAMA_PROXY_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(key);
        }

        if (url is not null) start.Environment["OLLAMA_PROXY_URL"] = url.ToString();

        using var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
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
            Assert.Fail($"ollama-proxy {string.Join(' ', args)} did not finish within {timeout.TotalSeconds} s.\n{output}\n{errors}");
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }

        lock (output) lock (errors) return new Outcome(process.ExitCode, output.ToString(), errors.ToString());
    }
}
