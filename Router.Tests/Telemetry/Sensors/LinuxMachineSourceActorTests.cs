using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit;
using Microsoft.Extensions.Time.Testing;
using Router.Actors.Config;
using Router.Actors.Routing;
using Router.Actors.State;
using Router.Telemetry.Sensors;
using Router.Tests.TestKit;

namespace Router.Tests.Telemetry.Sensors;

/// <summary>
/// The power, thermal and efficiency actors over the Linux sensors and a fake sysfs tree, on
/// virtual time: each <see cref="AdvanceToNextSample"/> is one scheduled sample.
/// </summary>
public sealed class LinuxMachineSourceActorTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan Wait = AkkaTestConfig.Patience;
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);
    private static readonly BackendConfig[] Backends =
    [
        new() { Id = "ollama-npu", Endpoint = new Uri("http://localhost:11434") },
        new() { Id = "ollama-cpu", Endpoint = new Uri("http://localhost:11437"), Sensors = new SensorConfig { Temperature = ["x86_pkg_temp"], Power = "package-0", HotC = 70, LimitC = 90 } },
    ];

    private readonly FakeTimeProvider _clock = new();
    private readonly FakeSysfs _sysfs = FakeSysfs.Laptop()
        .Write("class/power_supply/AC/online", "0")
        .Write("class/power_supply/BAT0/status", "Discharging")
        .Write("class/power_supply/BAT0/capacity", "19")
        .Write("class/power_supply/BAT0/energy_now", "9500000"); // 9.5 of 50 Wh
    private readonly IActorRef _efficiency;
    private readonly TestProbe _events;

    public LinuxMachineSourceActorTests()
        : base(AkkaTestConfig.VirtualTime, nameof(LinuxMachineSourceActorTests))
    {
        var sensors = ImmutableDictionary.CreateRange(Backends.Select(b => KeyValuePair.Create(b.Id, b.Sensors)));
        var source = new LinuxMachineSource(_sysfs.Config with { SampleInterval = Interval }, Backends, _clock);
        _events = CreateTestProbe();
        Sys.EventStream.Subscribe(_events.Ref, typeof(EfficiencyModeChanged));
        Sys.EventStream.Subscribe(_events.Ref, typeof(ThermalEvent));
        var thresholds = new ModeThresholds { UltraEfficiencyBelowPercent = 20, BatteryMarginPercent = 3 };
        _efficiency = Sys.ActorOf(Props.Create(() => new EfficiencyActor(EfficiencyMode.Auto, sensors, _clock, thresholds)), EfficiencyActor.Name);
        EfficiencyActor.Subscribe(Sys, _efficiency);
        var power = Sys.ActorOf(Props.Create(() => new PowerActor(source, Interval, _clock)), PowerActor.Name);
        var thermal = Sys.ActorOf(Props.Create(() => new ThermalActor(source, sensors, Interval, _clock)), ThermalActor.Name);
        // Answered only after each sampler's PreStart has started its timer.
        power.Ask<PowerReading>(GetLatestReading.Instance, Wait).Wait(Wait);
        thermal.Ask<Router.Actors.State.ThermalReading>(GetLatestReading.Instance, Wait).Wait(Wait);
    }

    protected override void AfterAll()
    {
        base.AfterAll();
        _sysfs.Dispose();
    }

    private void AdvanceToNextSample()
    {
        _clock.Advance(Interval);
        ((TestScheduler)Sys.Scheduler).Advance(Interval);
    }

    [Fact]
    public async Task Auto_BatteryClimbsBackPastTheThreshold_LeavesUltraEfficiencyOnlyPastTheMargin()
    {
        var state = await WaitForStateAsync(s => s.BatteryPercent == 19 && s.EffectiveMode == EfficiencyMode.UltraEfficiency);
        Assert.Equal("battery 19% < 20%: ultra-efficiency", state.ModeReason);
        await _events.FishForMessageAsync<EfficiencyModeChanged>(c => c.To == EfficiencyMode.UltraEfficiency, Wait);

        // 21 and 22 % sit within the 3 % margin above 20 %: no flap.
        state = await ChargeAsync(21);
        Assert.Equal(EfficiencyMode.UltraEfficiency, state.EffectiveMode);
        Assert.Equal("battery 21% not yet 23%: ultra-efficiency", state.ModeReason);
        state = await ChargeAsync(22);
        Assert.Equal(EfficiencyMode.UltraEfficiency, state.EffectiveMode);

        state = await ChargeAsync(24);
        Assert.Equal(EfficiencyMode.Efficiency, state.EffectiveMode);
        Assert.Equal("battery 24% < 50%: efficiency", state.ModeReason);
        var change = await _events.FishForMessageAsync<EfficiencyModeChanged>(c => c.To == EfficiencyMode.Efficiency, Wait);
        Assert.Equal(EfficiencyMode.UltraEfficiency, change.From);
    }

    [Fact]
    public async Task ThermalActor_PackageCrossesTheCpuBackendsHotLimit_PublishesTheEventWithTheReading()
    {
        await WaitForStateAsync(s => s.ThermalByBackend.TryGetValue("ollama-cpu", out var t) && t.TemperatureC == 62.5);

        _sysfs.Write("class/thermal/thermal_zone1/temp", "76000");
        AdvanceToNextSample();

        var hot = await _events.FishForMessageAsync<ThermalEvent>(e => e.Kind == "hot", Wait);
        Assert.Equal("ollama-cpu", hot.BackendId);
        Assert.Equal(76, hot.TemperatureC);
        Assert.Equal(_clock.GetUtcNow(), hot.At);
    }

    private async Task<SystemState> ChargeAsync(double percent)
    {
        // The charge is the energy over the full energy (50 Wh here) where the battery reports both.
        _sysfs.Write("class/power_supply/BAT0/capacity", percent.ToString(System.Globalization.CultureInfo.InvariantCulture));
        _sysfs.Write("class/power_supply/BAT0/energy_now", (percent * 500_000).ToString(System.Globalization.CultureInfo.InvariantCulture));
        AdvanceToNextSample();
        return await WaitForStateAsync(s => s.BatteryPercent == percent);
    }

    private async Task<SystemState> WaitForStateAsync(Func<SystemState, bool> condition)
    {
        SystemState? state = null;
        await AwaitAssertAsync(async () =>
        {
            state = await _efficiency.Ask<SystemState>(GetSystemState.Instance, Wait);
            Assert.True(condition(state), $"state never matched; last: {state}");
        }, Wait, TimeSpan.FromMilliseconds(5));
        return state!;
    }
}
