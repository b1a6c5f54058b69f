using System.Net.Http.Json;
using System.Text.Json;
using Router.Tests.TestKit;

namespace Router.Tests.DBus;

/// <summary>
/// The real daemon (<c>ollama-proxy --simulate</c> as a child process) on a private session bus:
/// what a desktop user meets. It takes the name, a second daemon cannot, it comes back after the
/// bus restarts, and it runs without D-Bus, saying so once, where there is no bus or it is off.
/// </summary>
public sealed class DaemonOnBusTests : IAsyncLifetime
{
    private PrivateBus _bus = null!;
    private readonly List<LineProcess> _daemons = [];

    public async Task InitializeAsync() => _bus = await PrivateBus.StartAsync(fixedSocket: true);

    public async Task DisposeAsync()
    {
        foreach (var daemon in _daemons)
        {
            await daemon.DisposeAsync();
        }

        await _bus.DisposeAsync();
    }

    private LineProcess Start(string? sessionBus, params (string Name, string Value)[] environment)
    {
        var daemon = DaemonOnBus.StartSimulated(sessionBus, environment);
        _daemons.Add(daemon);
        return daemon;
    }

    [Fact]
    public async Task Daemon_OnTheSessionBus_ScriptsSetTheModeTheHttpApiShows()
    {
        var daemon = Start(_bus.Address);
        using var http = new HttpClient { BaseAddress = await DaemonOnBus.WaitUntilListeningAsync(daemon) };
        await daemon.WaitForTextAsync("D-Bus: on the session bus as ie.fio.OllamaProxy", PrivateBus.Patience);

        var set = await BusTools.BusctlAsync(_bus.Address, "call", BusTools.Name, BusTools.Root + "/Efficiency", "ie.fio.OllamaProxy.Efficiency", "SetMode", "s", "ultra-efficiency");

        Assert.True(set.ExitCode == 0, set.ToString());
        Assert.Equal("ultra-efficiency", (await http.GetFromJsonAsync<JsonElement>("/efficiency")).GetProperty("mode").GetString());
        var info = await BusTools.CallAsync(_bus.Address, "Efficiency", "ie.fio.OllamaProxy.Efficiency.GetModeInfo", "ultra-efficiency");
        Assert.True(info.ExitCode == 0, info.ToString());
        Assert.Contains("'max_power_watts': <10.0>", info.Output, StringComparison.Ordinal);
        Assert.Contains("'icon': <'", info.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SecondDaemon_NameTaken_ExitsWithAMessageOrRunsWithoutDBusWhenConfigured()
    {
        var first = Start(_bus.Address);
        await DaemonOnBus.WaitUntilListeningAsync(first);
        await first.WaitForTextAsync("D-Bus: on the session bus as ie.fio.OllamaProxy", PrivateBus.Patience);

        var second = Start(_bus.Address);
        Assert.Equal(1, await second.WaitForExitAsync(PrivateBus.Patience));
        Assert.Contains("ollama-proxy: another process already owns ie.fio.OllamaProxy on the session bus", second.Stderr, StringComparison.Ordinal);
        Assert.Contains("dbus.require-name = false", second.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("listening", second.Stdout, StringComparison.Ordinal);

        var third = Start(_bus.Address, ("OLLAMA_PROXY_DBUS_REQUIRE_NAME", "false"));
        using var http = new HttpClient { BaseAddress = await DaemonOnBus.WaitUntilListeningAsync(third) };
        await third.WaitForTextAsync("D-Bus off: another process owns ie.fio.OllamaProxy; running without D-Bus", PrivateBus.Patience);
        Assert.Equal("balanced", (await http.GetFromJsonAsync<JsonElement>("/efficiency")).GetProperty("mode").GetString());
        // The name still belongs to the first daemon.
        var owner = await BusTools.CallAsync(_bus.Address, "Efficiency", "org.freedesktop.DBus.Peer.Ping");
        Assert.True(owner.ExitCode == 0, owner.ToString());
        Assert.False(first.HasExited);
    }

    [Fact]
    public async Task BusRestarts_DaemonReconnectsAndTakesTheNameAgain()
    {
        var daemon = Start(_bus.Address);
        await DaemonOnBus.WaitUntilListeningAsync(daemon);
        await daemon.WaitForTextAsync("D-Bus: on the session bus as ie.fio.OllamaProxy", PrivateBus.Patience);

        await _bus.RestartAsync();

        await daemon.WaitForTextAsync("D-Bus: lost the session bus", PrivateBus.Patience);
        await daemon.WaitForTextAsync("D-Bus: back on the session bus as ie.fio.OllamaProxy", PrivateBus.Patience);
        Assert.Equal("s \"balanced\"", await BusTools.GetPropertyAsync(_bus.Address, "Efficiency", "Mode"));
        var set = await BusTools.CallAsync(_bus.Address, "Efficiency", "ie.fio.OllamaProxy.Efficiency.SetMode", "quiet");
        Assert.True(set.ExitCode == 0, set.ToString());
        Assert.Equal("s \"quiet\"", await BusTools.GetPropertyAsync(_bus.Address, "Efficiency", "EffectiveMode"));
    }

    [Theory]
    [InlineData(false, null, "D-Bus off: the session bus at unix:path=/nonexistent/ollama-proxy-tests/bus cannot be reached")]
    [InlineData(true, "false", "D-Bus off: dbus.enabled = false")]
    public async Task NoBusOrSwitchedOff_RunsWithoutDBusAndSaysSoOnce(bool withBus, string? enabled, string line)
    {
        var daemon = Start(withBus ? _bus.Address : null, enabled is null ? [] : [("OLLAMA_PROXY_DBUS_ENABLED", enabled)]);
        using var http = new HttpClient { BaseAddress = await DaemonOnBus.WaitUntilListeningAsync(daemon) };

        await daemon.WaitForTextAsync(line, PrivateBus.Patience);
        Assert.Equal("balanced", (await http.GetFromJsonAsync<JsonElement>("/efficiency")).GetProperty("mode").GetString());
        Assert.Single(daemon.Stdout.Split('\n'), l => l.Contains("D-Bus off", StringComparison.Ordinal));
        if (withBus)
        {
            var names = await BusTools.BusctlAsync(_bus.Address, "list", "--no-pager");
            Assert.DoesNotContain(BusTools.Name, names.Output, StringComparison.Ordinal);
        }
    }
}
