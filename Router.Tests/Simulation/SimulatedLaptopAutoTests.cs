using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit;
using Microsoft.Extensions.Time.Testing;
using Router.Actors.Config;
using Router.Actors.Routing;
using Router.Actors.State;
using Router.Gateway.Simulation;
using Router.Telemetry.Sensors;
using Router.Tests.TestKit;
using static Router.Tests.Backends.BackendTestKit;

namespace Router.Tests.Simulation;

/// <summary>
/// The README's load example on virtual time: the simulated laptop's devices read by the thermal and
/// power actors as in <c>--simulate</c>, and Auto following them. Load heats the NVIDIA device until
/// Auto goes quiet, naming it; once the load stops the device cools, and Auto comes back when the
/// machine has stayed cool for the hold.
/// </summary>
public sealed class SimulatedLaptopAutoTests : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    private const string NpuId = "ollama-npu", NvidiaId = "ollama-nvidia";
    private static readonly TimeSpan Wait = AkkaTestConfig.Patience;
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);
    private readonly FakeTimeProvider _clock = new();
    private readonly HttpClient _http = new();
    private SimulatedBackend _npu = null!;
    private SimulatedBackend _nvidia = null!;
    private IActorRef _efficiency = null!;

    public SimulatedLaptopAutoTests()
        : base(AkkaTestConfig.VirtualTime, nameof(SimulatedLaptopAutoTests))
    {
    }

    public async Task InitializeAsync()
    {
        var options = new SimulatorOptions { TimeScale = 1, TimeProvider = _clock };
        _npu = await SimulatedBackend.StartAsync(DeviceProfile.Npu, options);
        _nvidia = await SimulatedBackend.StartAsync(DeviceProfile.Nvidia, options);
        var laptop = new SimulatedLaptop([(NpuId, _npu), (NvidiaId, _nvidia)], timeScale: 1, _clock);
        BackendConfig[] backends =
        [
            Backends.BackendTestKit.Config(_npu.Endpoint) with { Id = NpuId, Hardware = "npu", Sensors = SimulatedLaptop.SensorsFor(null, "npu") },
            Backends.BackendTestKit.Config(_nvidia.Endpoint) with { Id = NvidiaId, Hardware = "nvidia", Sensors = SimulatedLaptop.SensorsFor(null, "nvidia") },
        ];
        var sensors = ImmutableDictionary.CreateRange(backends.Select(b => KeyValuePair.Create(b.Id, b.Sensors)));
        var source = new LinuxMachineSource(laptop, backends, _clock, Interval);
        _efficiency = Sys.ActorOf(Props.Create(() => new EfficiencyActor(EfficiencyMode.Auto, sensors, _clock, null)), EfficiencyActor.Name);
        EfficiencyActor.Subscribe(Sys, _efficiency);
        var power = Sys.ActorOf(Props.Create(() => new PowerActor(source, Interval, _clock)), PowerActor.Name);
        var counted = new EverySampleNew(source);
        var thermal = Sys.ActorOf(Props.Create(() => new ThermalActor(counted, sensors, Interval, _clock)), ThermalActor.Name);
        // Answered only after each sampler's PreStart has started its timer.
        await power.Ask<PowerReading>(GetLatestReading.Instance, Wait);
        await thermal.Ask<Router.Actors.State.ThermalReading>(GetLatestReading.Instance, Wait);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _npu.DisposeAsync();
        await _nvidia.DisposeAsync();
    }

    [Fact]
    public async Task Auto_LoadHeatsTheNvidiaDevice_QuietNamingItThenBackOnceCoolForTheHold()
    {
        var cool = await WaitForStateAsync(s => s.ThermalByBackend.TryGetValue(NvidiaId, out var t) && t.TemperatureC is not null);
        Assert.Equal(EfficiencyMode.Performance, cool.EffectiveMode);

        // Load: the NVIDIA device works without a pause (a request it holds) until it is hot.
        var hot = await KeepBusyUntilAsync(_nvidia, s => s.EffectiveMode == EfficiencyMode.Quiet);
        double hotC = hot.ThermalByBackend[NvidiaId].TemperatureC!.Value;
        Assert.InRange(hotC, ModeThresholds.Default.HotC, DeviceProfile.Nvidia.AmbientC + DeviceProfile.Nvidia.MaxTemperatureRiseC);
        Assert.StartsWith($"{NvidiaId} ", hot.ModeReason);
        Assert.EndsWith("°C ≥ 80 °C: quiet", hot.ModeReason);

        // Idle: the device cools below 75 °C within a minute, and Auto stays quiet through the hold.
        var cooled = await AdvanceUntilAsync(s => s.ThermalByBackend[NvidiaId].TemperatureC < 75, TimeSpan.FromMinutes(1));
        Assert.Equal(EfficiencyMode.Quiet, cooled.EffectiveMode);
        Assert.Equal("cooled below 75 °C: quiet until cool for 30 s", cooled.ModeReason);
        var coolAt = _clock.GetUtcNow();
        var held = await AdvanceUntilAsync(_ => _clock.GetUtcNow() - coolAt >= TimeSpan.FromSeconds(26), TimeSpan.FromSeconds(30));
        Assert.Equal(EfficiencyMode.Quiet, held.EffectiveMode);

        var back = await AdvanceUntilAsync(s => s.EffectiveMode != EfficiencyMode.Quiet, TimeSpan.FromSeconds(10));
        Assert.Equal(EfficiencyMode.Performance, back.EffectiveMode);
        Assert.Equal("on AC and cool: performance", back.ModeReason);
        Assert.InRange(_clock.GetUtcNow() - coolAt, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(32));
    }

    /// <summary>Holds one request on <paramref name="device"/> (its hang fault) while the samples go on, until <paramref name="until"/>.</summary>
    private async Task<SystemState> KeepBusyUntilAsync(SimulatedBackend device, Func<SystemState, bool> until)
    {
        device.Faults.Hang = true;
        using var stop = new CancellationTokenSource();
        var request = _http.GetAsync(new Uri(device.Endpoint, "api/version"), stop.Token);
        await device.WaitUntilAsync(s => s.ActiveRequests == 1, Timeout());
        var state = await AdvanceUntilAsync(until, TimeSpan.FromMinutes(5));
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);
        await device.WaitUntilAsync(s => s.ActiveRequests == 0, Timeout());
        device.Faults.Hang = false;
        return state;
    }

    /// <summary>One sample at a time (the clock and the actors' scheduler together) until the state matches; fails past <paramref name="limit"/>.</summary>
    private async Task<SystemState> AdvanceUntilAsync(Func<SystemState, bool> condition, TimeSpan limit)
    {
        for (var elapsed = TimeSpan.Zero; elapsed <= limit; elapsed += Interval)
        {
            _clock.Advance(Interval);
            ((TestScheduler)Sys.Scheduler).Advance(Interval);
            // Each sample reaches the efficiency actor through the thermal actor: wait for this one's.
            var now = _clock.GetUtcNow();
            var state = await WaitForStateAsync(_ => true, thermalAt: now);
            if (condition(state))
            {
                return state;
            }
        }

        throw new Xunit.Sdk.XunitException($"the state did not match within {limit} of virtual time");
    }

    /// <summary>
    /// The simulated laptop's thermal readings with a sample counter among the fans: every sample is
    /// then a new reading the thermal actor publishes, so each step can wait for its own.
    /// </summary>
    private sealed class EverySampleNew(IThermalSource source) : IThermalSource
    {
        private int _samples;

        public async ValueTask<Router.Actors.State.ThermalReading> ReadThermalAsync(CancellationToken cancellationToken)
        {
            var reading = await source.ReadThermalAsync(cancellationToken);
            return reading with { FanRpm = reading.FanRpm.SetItem("test-sample-counter", Interlocked.Increment(ref _samples)) };
        }
    }

    private async Task<SystemState> WaitForStateAsync(Func<SystemState, bool> condition, DateTimeOffset? thermalAt = null)
    {
        SystemState? state = null;
        await AwaitAssertAsync(async () =>
        {
            if (thermalAt is { } at)
            {
                var reading = await Sys.ActorSelection("/user/" + ThermalActor.Name).Ask<Router.Actors.State.ThermalReading>(GetLatestReading.Instance, Wait);
                Assert.True(reading.At >= at, "the sample of this step has not been read yet");
            }

            state = await _efficiency.Ask<SystemState>(GetSystemState.Instance, Wait);
            Assert.True(condition(state), $"state never matched; last: {state}");
        }, Wait, TimeSpan.FromMilliseconds(5));
        return state!;
    }
}
