using System.Diagnostics;
using Router.Tests.TestKit;

namespace Router.Tests.EndToEnd;

/// <summary>Runs the gateway's program (<c>ollama-proxy.dll</c>, copied next to the tests) with <c>dotnet</c>, with a time limit.</summary>
internal static class CliProcess
{
    public static string GatewayDll
    {
        get
        {
            var dll = Path.Combine(AppContext.BaseDirectory, "ollama-proxy.dll");
            Assert.True(File.Exists(dll), $"{dll} is missing (Router.Tests references Router.Gateway)");
            return dll;
        }
    }

    public static Task<ChildProcess.Outcome> RunAsync(TimeSpan timeout, params string[] args) => RunAsync(timeout, null, args);

    /// <summary>Runs with <paramref name="url"/> as <c>OLLAMA_PROXY_URL</c> (the CLI's default daemon address).</summary>
    public static Task<ChildProcess.Outcome> RunAsync(TimeSpan timeout, Uri? url, params string[] args) => RunAsync(timeout, url, null, args);

    /// <summary>Runs with <paramref name="url"/> as <c>OLLAMA_PROXY_URL</c> and the given environment variables besides.</summary>
    public static async Task<ChildProcess.Outcome> RunAsync(TimeSpan timeout, Uri? url, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = AppContext.BaseDirectory };
        start.ArgumentList.Add(GatewayDll);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        // The CLI reads OLLAMA_PROXY_URL and the daemon OLLAMA_PROXY_* overrides: none may leak in from the test run.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("OLLAMA_PROXY_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(key);
        }

        if (url is not null) start.Environment["OLLAMA_PROXY_URL"] = url.ToString();
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;

        return await ChildProcess.RunAsync(start, timeout, "ollama-proxy " + string.Join(' ', args));
    }
}
