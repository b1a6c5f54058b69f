using System.Diagnostics;
using System.IO.Compression;
using System.Text.Json;
using Router.Tests.TestKit;

namespace Router.Tests.Gnome;

/// <summary>
/// The GNOME Shell extension without the daemon: what scripts/pack-gnome-extension ships, ESLint
/// with GNOME Shell's rules, and the state model's rules under gjs.
/// </summary>
public sealed class ExtensionBundleTests(ExtensionBundle bundle) : IClassFixture<ExtensionBundle>
{
    private static readonly TimeSpan ScriptLimit = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Pack_Bundle_HoldsTheModulesTheContractAndTheSchema()
    {
        using var zip = ZipFile.OpenRead(bundle.Zip);
        var names = zip.Entries.Select(e => e.FullName).ToHashSet(StringComparer.Ordinal);
        foreach (var expected in new[]
        {
            "metadata.json", "extension.js", "prefs.js", "routerClient.js", "routerState.js", "stylesheet.css",
            "ie.fio.OllamaProxy.xml", "schemas/org.gnome.shell.extensions.ai-efficiency.gschema.xml",
        })
        {
            Assert.Contains(expected, names);
        }

        // The contract is a copy of the one in Router.DBus, made at pack time.
        using (var reader = new StreamReader(zip.GetEntry("ie.fio.OllamaProxy.xml")!.Open()))
        {
            Assert.Equal(await File.ReadAllTextAsync(Path.Combine(ChildProcess.RepoRoot, "Router.DBus", "Interfaces", "ie.fio.OllamaProxy.xml")), await reader.ReadToEndAsync());
        }

        using (var metadata = await JsonDocument.ParseAsync(zip.GetEntry("metadata.json")!.Open()))
        {
            var root = metadata.RootElement;
            Assert.Equal(ExtensionBundle.Uuid, root.GetProperty("uuid").GetString());
            Assert.Equal(["45", "46", "47", "48", "49"], root.GetProperty("shell-version").EnumerateArray().Select(v => v.GetString()));
            Assert.Equal("org.gnome.shell.extensions.ai-efficiency", root.GetProperty("settings-schema").GetString());
        }

        // The installed schema compiled (the fixture ran glib-compile-schemas --strict); its defaults read back.
        foreach (var (key, value) in new[] { ("show-backends", "true"), ("notifications", "true"), ("last-manual-mode", "'balanced'") })
        {
            var start = new ProcessStartInfo("gsettings", ["--schemadir", Path.Combine(bundle.ExtensionDir, "schemas"), "get", "org.gnome.shell.extensions.ai-efficiency", key]);
            start.Environment["GSETTINGS_BACKEND"] = "memory";
            var outcome = await ExtensionBundle.RunAsync(start);
            Assert.Equal(value, outcome.Output.Trim());
        }
    }

    [Fact]
    public async Task Lint_ExtensionAndTests_PassGnomeShellRules()
    {
        var eslint = Path.Combine(ExtensionBundle.SourceDir, "node_modules", "eslint", "bin", "eslint.js");
        Assert.True(File.Exists(eslint), $"{eslint} is missing: run `npm install` in gnome/ (scripts/test does).");

        var lint = await ChildProcess.RunAsync(new ProcessStartInfo("node", [eslint, "."]) { WorkingDirectory = ExtensionBundle.SourceDir }, ScriptLimit, "eslint");
        Assert.True(lint.ExitCode == 0, lint.ToString());

        // The rules are GNOME Shell's: a double-quoted string, legal JavaScript, is an error.
        var probe = new ProcessStartInfo("bash", ["-c", $"echo 'export const x = \"a\";' | node '{eslint}' --stdin --stdin-filename probe.js"])
        {
            WorkingDirectory = ExtensionBundle.SourceDir,
        };
        var refused = await ChildProcess.RunAsync(probe, ScriptLimit, "eslint --stdin");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("Strings must use singlequote", refused.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RouterState_TableOfCases_AllHold()
    {
        var start = new ProcessStartInfo("gjs", ["-m", Path.Combine(ExtensionBundle.SourceDir, "tests", "routerState.test.js"), bundle.ExtensionDir]);
        var outcome = await ChildProcess.RunAsync(start, ScriptLimit, "gjs -m routerState.test.js");

        Assert.True(outcome.ExitCode == 0, outcome.ToString());
        var lines = outcome.Output.Split('\n');
        Assert.DoesNotContain(lines, line => line.StartsWith("not ok", StringComparison.Ordinal));
        var held = lines.Count(line => line.StartsWith("ok ", StringComparison.Ordinal));
        Assert.True(held >= 30, $"only {held} checks ran:\n{outcome}");
        Assert.Contains($"# {held} of {held} checks held", outcome.Output, StringComparison.Ordinal);
    }
}
