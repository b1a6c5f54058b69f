using Microsoft.Extensions.Logging.Abstractions;
using Router.Actors.Backends;
using Router.Actors.Inference;
using Router.Actors.Routing;
using Router.DBus.Export;
using Tmds.DBus.Protocol;

using Router.Tests.Telemetry;

namespace Router.Tests.DBus.Export;

/// <summary>
/// A busy router must not flood the session bus: RequestRouted stays within its rate and the
/// request counts are announced at most once a second, on a manual clock, seen by gdbus monitor.
/// </summary>
public sealed class RoutingRateLimitTests : IAsyncLifetime
{
    private readonly Microsoft.Extensions.Time.Testing.FakeTimeProvider _time = TestClock.Create();
    private PrivateBus _bus = null!;
    private DBusConnection _connection = null!;
    private RoutingObject _routing = null!;
    private SignalMonitor _monitor = null!;

    public async Task InitializeAsync()
    {
        _bus = await PrivateBus.StartAsync();
        _connection = new DBusConnection(new DBusConnectionOptions(_bus.Address) { AutoConnect = false });
        await _connection.ConnectAsync();
        var link = new BusLink { Connection = _connection };
        _routing = new RoutingObject(link, new Grpc.FakeInferenceRouter(), _time, signalOn: true, signalsPerSecond: 3, energyWh: null, NullLogger.Instance);
        _routing.ResetAnnounced();
        _monitor = await SignalMonitor.StartAsync(_bus.Address, _connection.UniqueName!);
    }

    public async Task DisposeAsync()
    {
        await _monitor.DisposeAsync();
        _routing.Dispose();
        _connection.Dispose();
        await _bus.DisposeAsync();
    }

    private static RequestRecord Request(string id) =>
        new("ollama-npu", "mode-balanced", Priority.Normal, CallOutcome.Succeeded, GenerationStats.Empty, false, "llama3.2:1b", DateTimeOffset.UnixEpoch, 3) { RequestId = id };

    [Fact]
    public async Task ManyRequestsInOneSecond_SignalsOnlyUpToTheRate()
    {
        for (var i = 1; i <= 10; i++)
        {
            _routing.OnRequestFinished(Request("r" + i));
        }

        _time.Advance(TimeSpan.FromSeconds(1));
        _routing.OnRequestFinished(Request("next-second"));

        await _monitor.WaitForAsync("Routing", "ie.fio.OllamaProxy.Routing.RequestRouted", "('next-second', 'ollama-npu', 'mode-balanced')");
        var routed = _monitor.Output.Split('\n').Where(l => l.Contains(".RequestRouted ", StringComparison.Ordinal)).Select(l => l[(l.IndexOf('(', StringComparison.Ordinal) + 2)..l.IndexOf("',", StringComparison.Ordinal)]);
        // Signals arrive in the order they were sent, so the fourth to tenth were never sent.
        Assert.Equal(["r1", "r2", "r3", "next-second"], routed);
    }

    [Fact]
    public async Task ManyRequestsInOneSecond_CountsAnnouncedOnceWithTheLatestTotal()
    {
        for (var i = 1; i <= 10; i++)
        {
            _routing.OnRequestFinished(Request("r" + i));
        }

        await _monitor.WaitForAsync("Routing", "org.freedesktop.DBus.Properties.PropertiesChanged", "'TotalRequests': <uint64 1>");
        _time.Advance(TimeSpan.FromSeconds(1));

        await _monitor.WaitForAsync("Routing", "org.freedesktop.DBus.Properties.PropertiesChanged", "'TotalRequests': <uint64 10>");
        var announced = _monitor.Output.Split('\n').Where(l => l.Contains("'TotalRequests'", StringComparison.Ordinal)).ToArray();
        Assert.Equal(2, announced.Length);
        Assert.Equal("u 10", "u " + announced[1][(announced[1].IndexOf("uint64 ", StringComparison.Ordinal) + 7)..].Split('>')[0]);
    }
}
