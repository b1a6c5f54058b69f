using Microsoft.Extensions.Logging.Abstractions;
using Router.Actors.Routing;
using Router.Actors.State;
using Router.DBus.Notifications;

using Router.Tests.Telemetry;

namespace Router.Tests.DBus.Notifications;

/// <summary>Desktop notifications, received by dbusmock's notification_daemon on a private session bus.</summary>
public sealed class DesktopNotifierTests : IAsyncLifetime
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);

    private readonly Microsoft.Extensions.Time.Testing.FakeTimeProvider _time = TestClock.Create();
    private PrivateBus _bus = null!;
    private DBusMock _daemon = null!;
    private DesktopNotifier _notifier = null!;

    public async Task InitializeAsync()
    {
        _bus = await PrivateBus.StartAsync();
        _daemon = await DBusMock.StartAsync(_bus.Address, system: false, "notification_daemon", "org.freedesktop.Notifications");
        _notifier = (await DesktopNotifier.StartAsync(_bus.Address, _time, Interval, NullLogger.Instance, CancellationToken.None))!;
        Assert.NotNull(_notifier);
    }

    public async Task DisposeAsync()
    {
        _notifier.Dispose();
        await _daemon.DisposeAsync();
        await _bus.DisposeAsync();
    }

    private EfficiencyModeChanged AutoChange(EfficiencyMode from, EfficiencyMode to, string reason) =>
        new(EfficiencyMode.Auto, from, to, reason, _time.GetUtcNow());

    [Fact]
    public async Task AutoChangesTwiceQuickly_OneNotificationThenTheNextAfterTheInterval()
    {
        _notifier.OnModeChanged(AutoChange(EfficiencyMode.Performance, EfficiencyMode.Balanced, "battery 80% ≥ 50%: balanced"));
        var first = await _daemon.WaitForLogAsync("Notify", "AI efficiency: balanced");
        Assert.Contains("\"Ollama Proxy\" 0 ", first, StringComparison.Ordinal);

        // Within the interval: dropped.
        _notifier.OnModeChanged(AutoChange(EfficiencyMode.Balanced, EfficiencyMode.Efficiency, "battery 45% < 50%: efficiency"));
        _time.Advance(Interval);
        _notifier.OnModeChanged(AutoChange(EfficiencyMode.Efficiency, EfficiencyMode.UltraEfficiency, "battery 15% < 20%: ultra-efficiency"));

        var next = await _daemon.WaitForLogAsync("Notify", "AI efficiency: ultra-efficiency");
        // It replaces the first one on screen (the id the daemon gave it).
        Assert.Contains("\"Ollama Proxy\" 1 ", next, StringComparison.Ordinal);
        Assert.DoesNotContain("AI efficiency: efficiency", _daemon.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UserChoiceAndCoolingDown_AreNotNews_ButOverLimitIs()
    {
        _notifier.OnModeChanged(new EfficiencyModeChanged(EfficiencyMode.Quiet, EfficiencyMode.Balanced, EfficiencyMode.Quiet, "user-selected", _time.GetUtcNow()));
        _notifier.OnThermalEvent(new ThermalEvent("cooled", "ollama-nvidia", 70, "ollama-nvidia at 70 °C is back below 80 °C", _time.GetUtcNow()));
        _notifier.OnThermalEvent(new ThermalEvent("over-limit", "ollama-nvidia", 97, "ollama-nvidia at 97 °C is above its limit of 95 °C: excluded from routing", _time.GetUtcNow()));

        var line = await _daemon.WaitForLogAsync("Notify", "ollama-nvidia is too hot");
        Assert.Contains("above its limit of 95 °C", line, StringComparison.Ordinal);
        Assert.Single(_daemon.Log.Split('\n'), l => l.Contains(" Notify ", StringComparison.Ordinal));
    }
}
