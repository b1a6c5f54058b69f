using Router.Actors.Config;
using Router.Actors.Routing;
using Router.DBus;
using Router.Gateway.Hosting;
using Router.Tests.TestKit;

namespace Router.Tests.DBus.Export;

/// <summary>
/// A private session bus and, in this process, the daemon as <c>--simulate</c> runs it, exported on
/// that bus. One per test class; tests put the mode and the simulated machine back when they change them.
/// </summary>
public sealed class RouterOnBus : IAsyncLifetime
{
    internal PrivateBus Bus { get; private set; } = null!;

    internal RouterHost Host { get; private set; } = null!;

    public string Address => Bus.Address;

    public async Task InitializeAsync()
    {
        Bus = await PrivateBus.StartAsync();
        var config = ConfigLoader.LoadDefault();
        config = config with { Desktop = config.Desktop with { Notifications = false } };
        Host = await RouterHost.StartAsync(config, new RouterHostOptions
        {
            Simulate = true,
            SimulationTimeScale = 0,
            HttpPort = 0,
            GrpcPort = 0,
            ConsoleLogging = false,
            DesktopBuses = new DesktopBusAddresses { Session = Bus.Address, System = TestBuses.Nowhere },
        });
        Assert.Equal(Bus.Address, Host.SessionBusAddress);
        await WaitForHealthyAsync();
    }

    public Task WaitForHealthyAsync() => Awaiting.AwaitConditionAsync(async () =>
    {
        var backends = await Host.Runtime.GetBackendsAsync(CancellationToken.None);
        return backends.Length == 4 && backends.All(b => b.Health == BackendHealth.Healthy && b.ModelsKnown);
    }, PrivateBus.Patience, "every simulated backend healthy");

    /// <summary>Balanced, on AC, no battery, cool: the start.</summary>
    public async Task ResetAsync()
    {
        var machine = Host.Machine!;
        machine.SetAcPower(true);
        machine.SetBatteryPercent(null);
        machine.SetThrottling(false);
        foreach (var id in new[] { "ollama-npu", "ollama-igpu", "ollama-nvidia", "ollama-cpu" })
        {
            machine.SetTemperature(id, null);
        }

        Host.Runtime.SampleNow();
        await Host.Runtime.SetModeAsync(EfficiencyMode.Balanced, CancellationToken.None);
        await Awaiting.AwaitConditionAsync(async () =>
        {
            var state = await Host.Runtime.GetSystemStateAsync(CancellationToken.None);
            // The simulated devices keep their own (idle, cool) temperatures once no longer held.
            return state.OnAcPower && state.BatteryPercent is null && !state.Throttling && !(state.MaxTemperatureC >= 80)
                && await BusTools.GetPropertyAsync(Bus.Address, "Efficiency", "Mode") == "s \"balanced\"";
        }, PrivateBus.Patience, "the machine and the mode back at the start");
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        await Bus.DisposeAsync();
    }
}
