using System.Collections.Immutable;
using Router.Tests.DBus;
using Router.Tests.EndToEnd;

namespace Router.Tests.Gnome;

/// <summary>
/// The installed GNOME Shell extension, its real ES modules under gjs with the shell stubbed,
/// against the real daemon (<c>ollama-proxy --simulate</c>) on a private session bus. Each test
/// starts its own bus, daemon and driver, and stops them all.
/// </summary>
public sealed class ToggleOnRealDaemonTests(ExtensionBundle bundle) : IClassFixture<ExtensionBundle>
{
    private static readonly ImmutableArray<string> ModeNames = ["Performance", "Balanced", "Efficiency", "Quiet", "Ultra Efficiency", "Auto"];
    private static readonly TimeSpan CliLimit = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Menu_SixModes_ChoosingOneSetsItOnTheDaemon()
    {
        await using var bus = await PrivateBus.StartAsync();
        await using var daemon = await BusDaemon.StartAsync(bus);
        await using var toggle = ToggleDriver.Start(bundle, bus);

        var view = await toggle.WaitForAsync(v => v.ShowsRunning, "the router running");
        Assert.Equal("AI Efficiency", view.Title);
        Assert.Equal(ModeNames, view.Modes.Select(m => m.Text));
        Assert.All(view.Modes, m => Assert.EndsWith("-symbolic", m.IconName, StringComparison.Ordinal));
        Assert.Equal(ModeNames.Length, view.Modes.Select(m => m.IconName).Distinct().Count());
        Assert.Equal(["Balanced"], view.CheckedModes);
        Assert.Equal("Balanced", view.Subtitle);
        Assert.Equal("Router running · 4 of 4 backends healthy", view.HeaderSubtitle);
        Assert.False(view.PanelIconVisible);

        // A mode from the menu: SetMode on the bus, and the daemon's HTTP surface agrees.
        await toggle.SendAsync("activate Quiet");
        view = await toggle.WaitForAsync(v => v.CheckedModes.SequenceEqual(["Quiet"]), "Quiet checked");
        Assert.Equal("quiet", (await daemon.GetEfficiencyAsync()).GetProperty("mode").GetString());
        Assert.Equal("Quiet", view.Subtitle);
        Assert.False(view.Checked);
        // A frugal mode in effect shows in the top bar, as power profiles does.
        Assert.True(view.PanelIconVisible);
        Assert.Equal(view.Modes.Single(m => m.Text == "Quiet").IconName, view.PanelIconName);

        // The toggle itself switches to Auto, and back to the last manual mode.
        await toggle.SendAsync("click");
        view = await toggle.WaitForAsync(v => v.CheckedModes.SequenceEqual(["Auto"]), "Auto checked after a click");
        var efficiency = await daemon.GetEfficiencyAsync();
        Assert.Equal("auto", efficiency.GetProperty("mode").GetString());
        Assert.True(view.Checked);
        Assert.StartsWith("Auto · ", view.Subtitle, StringComparison.Ordinal);

        await toggle.SendAsync("click");
        await toggle.WaitForAsync(v => v.CheckedModes.SequenceEqual(["Quiet"]), "Quiet again after a second click");
        Assert.Equal("quiet", (await daemon.GetEfficiencyAsync()).GetProperty("mode").GetString());

        await toggle.SendAsync("activate Router settings");
        await toggle.WaitForAsync(v => v.PreferencesOpened == 1, "the preferences opened");
    }

    [Fact]
    public async Task ModeSetWithCli_ShowsInTheToggle_WithAutosReason()
    {
        await using var bus = await PrivateBus.StartAsync();
        await using var daemon = await BusDaemon.StartAsync(bus);
        await using var toggle = ToggleDriver.Start(bundle, bus);
        await toggle.WaitForAsync(v => v.ShowsRunning, "the router running");

        var set = await CliProcess.RunAsync(CliLimit, daemon.Http.BaseAddress, "mode", "efficiency");
        Assert.True(set.ExitCode == 0, set.ToString());
        var view = await toggle.WaitForAsync(v => v.CheckedModes.SequenceEqual(["Efficiency"]), "Efficiency checked after `ollama-proxy mode efficiency`");
        Assert.Equal("Efficiency", view.Subtitle);

        // Auto on a battery at 35 %: the subtitle says what Auto chose and why, as the daemon does.
        set = await CliProcess.RunAsync(CliLimit, daemon.Http.BaseAddress, "mode", "auto");
        Assert.True(set.ExitCode == 0, set.ToString());
        await daemon.SimulateAsync(new { on_ac_power = false, battery_percent = 35 });
        view = await toggle.WaitForAsync(v => v.Subtitle.StartsWith("Auto · Efficiency (", StringComparison.Ordinal), "Auto · Efficiency (…) on a battery at 35 %");
        var efficiency = await daemon.GetEfficiencyAsync();
        Assert.Equal("efficiency", efficiency.GetProperty("effective_mode").GetString());
        // The daemon's reason, less a closing ": efficiency" that the subtitle already says.
        Assert.Equal($"Auto · Efficiency ({efficiency.GetProperty("reason").GetString()!.Replace(": efficiency", "", StringComparison.Ordinal)})", view.Subtitle);
        Assert.Contains("35", view.Subtitle, StringComparison.Ordinal);
        Assert.True(view.PanelIconVisible);
    }

    [Fact]
    public async Task DaemonStopsAndStarts_ToggleFollowsTheBusName()
    {
        await using var bus = await PrivateBus.StartAsync();
        var daemon = await BusDaemon.StartAsync(bus);
        await using var toggle = ToggleDriver.Start(bundle, bus);
        try
        {
            await toggle.WaitForAsync(v => v.ShowsRunning, "the router running");
            await daemon.StopAsync();
        }
        finally
        {
            await daemon.DisposeAsync();
        }

        var view = await toggle.WaitForAsync(v => !v.Sensitive, "the toggle insensitive once the daemon stopped");
        Assert.Equal("Router not running", view.Subtitle);
        Assert.Equal("Router not running", view.HeaderSubtitle);
        Assert.Empty(view.CheckedModes);
        Assert.False(view.PanelIconVisible);
        Assert.Contains("insensitive", await toggle.SendRefusedAsync("click"), StringComparison.Ordinal);

        // The name comes back with a new daemon: the toggle follows by itself.
        await using var restarted = await BusDaemon.StartAsync(bus);
        view = await toggle.WaitForAsync(v => v.ShowsRunning, "the router running again after a restart");
        Assert.Equal("Balanced", view.Subtitle);
        Assert.Equal(4, view.Backends.Length);

        // Disabled, the extension leaves nothing behind; enabled again, it finds the router.
        await toggle.SendAsync("disable");
        await toggle.WaitForAsync(v => v.IndicatorCount == 0, "no indicator once disabled");
        await toggle.SendAsync("enable");
        await toggle.WaitForAsync(v => v.ShowsRunning, "the router running after enable");
    }

    [Fact]
    public async Task Backends_HealthDotsLastServedAndHeat_FollowTheDaemon()
    {
        await using var bus = await PrivateBus.StartAsync();
        // The NVIDIA and CPU backends are probed every 500 ms, so their going down is seen at once.
        await using var daemon = await BusDaemon.StartAsync(bus,
            ("OLLAMA_PROXY_BACKENDS_OLLAMA_NVIDIA_HEALTH_INTERVAL", "500ms"), ("OLLAMA_PROXY_BACKENDS_OLLAMA_CPU_HEALTH_INTERVAL", "500ms"));
        await using var toggle = ToggleDriver.Start(bundle, bus);

        var view = await toggle.WaitForAsync(v => v.ShowsRunning && v.Backends.Length == 4, "four backends");
        Assert.True(view.BackendsVisible);
        Assert.All(view.Backends, b => Assert.Equal("media-record-symbolic", b.IconName));
        Assert.All(view.Backends, b => Assert.Contains("ai-efficiency-health-healthy", b.StyleClasses));
        Assert.Null(view.Warning);

        await daemon.ChatOnAsync("ollama-igpu");
        view = await toggle.WaitForAsync(v => v.Backend("Ollama on integrated GPU").Text.EndsWith(" · served the last request", StringComparison.Ordinal),
            "the iGPU marked as having served the last request");
        Assert.Single(view.Backends, b => b.Text.Contains("served the last request", StringComparison.Ordinal));

        // The NVIDIA device stops taking connections: its dot turns, the header counts it out.
        await daemon.FaultAsync("ollama-nvidia", new { refuseConnections = true });
        view = await toggle.WaitForAsync(v => !v.Backend("Ollama on NVIDIA GPU").StyleClasses.Contains("ai-efficiency-health-healthy"), "the NVIDIA backend's dot no longer healthy");
        var nvidia = view.Backend("Ollama on NVIDIA GPU");
        Assert.Single(nvidia.StyleClasses, c => c.StartsWith("ai-efficiency-health-", StringComparison.Ordinal));
        Assert.Contains(nvidia.StyleClasses.Single(), new[] { "ai-efficiency-health-unhealthy", "ai-efficiency-health-ejected" });
        Assert.Equal("Router running · 3 of 4 backends healthy", view.HeaderSubtitle);
        view = await toggle.WaitForAsync(v => v.Notifications.Any(n => n.Title.StartsWith("Ollama on NVIDIA GPU is ", StringComparison.Ordinal)), "a notification that the NVIDIA backend is down");

        // With notifications off, the next backend down shows in its dot and notifies nobody. The
        // dot and the notification come from one signal: once the dot shows, the choice was made.
        var notified = view.Notifications.Length;
        await toggle.SendAsync("set notifications false");
        await daemon.FaultAsync("ollama-cpu", new { refuseConnections = true });
        view = await toggle.WaitForAsync(v => !v.Backend("Ollama on CPU").StyleClasses.Contains("ai-efficiency-health-healthy"), "the CPU backend's dot no longer healthy");
        Assert.DoesNotContain(view.Notifications, n => n.Title.StartsWith("Ollama on CPU", StringComparison.Ordinal));
        Assert.Equal(notified, view.Notifications.Length);

        // A hot device, then throttling, show in the warning line.
        await daemon.SimulateAsync(new { temperatures = new Dictionary<string, double> { ["ollama-cpu"] = 90 } });
        await toggle.WaitForAsync(v => v.Warning == "Hot: Ollama on CPU", "the warning that the CPU is hot");
        await daemon.SimulateAsync(new { throttling = true });
        await toggle.WaitForAsync(v => v.Warning == "Hot: Ollama on CPU · Throttling", "the warning that the machine throttles");

        // The preference hides the section.
        await toggle.SendAsync("set show-backends false");
        await toggle.WaitForAsync(v => !v.BackendsVisible, "the backends section hidden");
    }
}
