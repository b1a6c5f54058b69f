using System.Diagnostics;
using Router.Tests.TestKit;

namespace Router.Tests.Http;

/// <summary>Runs one of the node scripts in Router.Tests/e2e against a host, with a time limit.</summary>
internal static class NodeScript
{
    public static Task<ChildProcess.Outcome> RunAsync(string script, Uri baseAddress, TimeSpan timeout, params string[] extra)
    {
        var e2e = Path.Combine(ChildProcess.RepoRoot, "Router.Tests", "e2e");
        Assert.True(Directory.Exists(Path.Combine(e2e, "node_modules")),
            $"{e2e}/node_modules is missing: run `npm install` there (scripts/test does).");

        var start = new ProcessStartInfo("node", [Path.Combine(e2e, script), baseAddress.ToString().TrimEnd('/'), .. extra])
        {
            WorkingDirectory = e2e,
        };
        return ChildProcess.RunAsync(start, timeout, script);
    }
}
