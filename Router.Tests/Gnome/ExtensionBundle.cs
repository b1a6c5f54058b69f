using System.Diagnostics;
using Router.Tests.TestKit;

namespace Router.Tests.Gnome;

/// <summary>
/// The extension as users get it: packed by scripts/pack-gnome-extension, installed by
/// <c>gnome-extensions install --force</c> into a scratch home, its schema compiled with
/// <c>glib-compile-schemas</c>; and the shell stubs compiled into a GResource for the driver.
/// Built once per test class.
/// </summary>
public sealed class ExtensionBundle : IAsyncLifetime
{
    public const string Uuid = "ai-efficiency@ollama-proxy.fio.ie";

    private static readonly TimeSpan ToolLimit = TimeSpan.FromSeconds(60);

    private readonly string _root = Directory.CreateTempSubdirectory("gnome-extension-").FullName;

    /// <summary>The bundle scripts/pack-gnome-extension wrote.</summary>
    public string Zip { get; private set; } = "";

    /// <summary>Where <c>gnome-extensions install</c> put the extension.</summary>
    public string ExtensionDir => Path.Combine(_root, "home", ".local", "share", "gnome-shell", "extensions", Uuid);

    /// <summary>The compiled shell stubs (gnome/tests/shell-stubs).</summary>
    public string StubsResource => Path.Combine(_root, "shell-stubs.gresource");

    /// <summary>gnome/ in the checkout.</summary>
    public static string SourceDir => Path.Combine(ChildProcess.RepoRoot, "gnome");

    public async Task InitializeAsync()
    {
        var pack = await RunAsync("bash", Path.Combine(ChildProcess.RepoRoot, "scripts", "pack-gnome-extension"), Path.Combine(_root, "pack"));
        Zip = pack.Output.Trim().Split('\n')[^1];
        Assert.True(File.Exists(Zip), $"scripts/pack-gnome-extension made no bundle at {Zip}: {pack}");

        var install = new ProcessStartInfo("gnome-extensions", ["install", "--force", Zip]);
        install.Environment["HOME"] = Path.Combine(_root, "home");
        install.Environment.Remove("XDG_DATA_HOME");
        await RunAsync(install);
        Assert.True(File.Exists(Path.Combine(ExtensionDir, "extension.js")), $"gnome-extensions install left no extension.js in {ExtensionDir}");

        await RunAsync("glib-compile-schemas", "--strict", Path.Combine(ExtensionDir, "schemas"));

        var stubs = Path.Combine(SourceDir, "tests", "shell-stubs");
        await RunAsync("glib-compile-resources", "--sourcedir=" + stubs, "--target=" + StubsResource, Path.Combine(stubs, "stubs.gresource.xml"));
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_root, recursive: true);
        return Task.CompletedTask;
    }

    /// <summary>Runs a tool to its end; fails the test unless it exits 0.</summary>
    internal static Task<ChildProcess.Outcome> RunAsync(string program, params string[] args) => RunAsync(new ProcessStartInfo(program, args));

    internal static async Task<ChildProcess.Outcome> RunAsync(ProcessStartInfo start)
    {
        ArgumentNullException.ThrowIfNull(start);
        var what = start.FileName + " " + string.Join(' ', start.ArgumentList);
        var outcome = await ChildProcess.RunAsync(start, ToolLimit, what);
        Assert.True(outcome.ExitCode == 0, $"{what}: {outcome}");
        return outcome;
    }
}
