using System.Diagnostics;
using Router.Tests.TestKit;

namespace Router.Tests.Grpc;

/// <summary>Runs a Node end-to-end client from Router.Tests/e2e.</summary>
internal static class NodeProcess
{
    public static string RepoRoot => ChildProcess.RepoRoot;

    public static LineProcess Start(string script, params string[] args)
    {
        var e2e = Path.Combine(RepoRoot, "Router.Tests", "e2e");
        if (!Directory.Exists(Path.Combine(e2e, "node_modules", "@grpc", "grpc-js")))
        {
            throw new InvalidOperationException($"Node modules missing: run `npm install` in {e2e} (scripts/test does).");
        }

        var info = new ProcessStartInfo("node") { WorkingDirectory = e2e };
        info.ArgumentList.Add(Path.Combine(e2e, script));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return LineProcess.Start(info, "The node script " + script);
    }

    /// <summary>Runs a script to its end and returns its exit code.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string script, TimeSpan timeout, params string[] args)
    {
        await using var node = Start(script, args);
        var code = await node.WaitForExitAsync(timeout);
        return (code, node.Stdout, node.Stderr);
    }
}
