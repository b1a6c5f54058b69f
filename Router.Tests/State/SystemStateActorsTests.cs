using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit;
using Microsoft.Extensions.Time.Testing;
using Router.Actors.Config;
using Router.Actors.Routing;
using Router.Actors.State;
using Router.Tests.TestKit;

namespace Router.Tests.State;

/// <summary>The efficiency, power and thermal actors together, on virtual time.</summary>
public sealed class SystemStateActorsTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan Wait = AkkaTestConfig.Patience;
    private static readonly TimeSpan SampleInterval = TimeSpan.FromSeconds(2);
    private readonly FakeTimeProvider _time = new();
    private readonly ImmutableDictionary<string, SensorConfig> _sensors = ImmutableDictionary<string, SensorConfig>.Empty
        .Add("ollama-nvidia", new SensorConfig { HotC = 80, LimitC = 95 })
        .Add("ollama-npu", new SensorConfig { HotC = 80, LimitC = 95 });
    private readonly SettableMachine _machine;
    private readonly IActorRef _efficiency;
    private readonly TestProbe _events;

    public SystemStateActorsTests()
        : base(AkkaTestConfig.VirtualTime, nameof(SystemStateActorsTests))
    {
        _machine = new SettableMachine(_time);
        _events = CreateTestProbe();
        Sys.EventStream.Subscribe(_events.Ref, typeof(EfficiencyModeChanged));
        Sys.EventStream.Subscribe(_events.Ref, typeof(ThermalEvent));
        _efficiency = Sys.ActorOf(Props.Create(() => new EfficiencyActor(EfficiencyMode.Auto, _sensors, _time, null)), EfficiencyActor.Name);
        EfficiencyActor.Subscribe(Sys, _efficiency);
        var power = Sys.ActorOf(Props.Create(() => new PowerActor(_machine, SampleInterval, _time)), PowerActor.Name);
        var thermal = Sys.ActorOf(Props.Create(() => new ThermalActor(_machine, _sensors, SampleInterval, _time)), ThermalActor.Name);
        // Answered only after each sampler's PreStart, which starts its timer: an advance of the
        // virtual clock before that would pass unseen, and the sample would never come.
        power.Ask<PowerReading>(GetLatestReading.Instance, Wait).Wait(Wait);
        thermal.Ask<ThermalReading>(GetLatestReading.Instance, Wait).Wait(Wait);
    }

    private void AdvanceToNextSample()
    {
        _time.Advance(SampleInterval);
        ((TestScheduler)Sys.Scheduler).Advance(SampleInterval);
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

    [Fact]
    public async Task Auto_OnAcAndCool_RunsPerformance()
    {
        var state = await WaitForStateAsync(s => s.EffectiveMode == EfficiencyMode.Performance);
        Assert.Equal(EfficiencyMode.Auto, state.Mode);
        Assert.Contains("AC", state.ModeReason, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Auto_BatteryDrainsBelowTwentyPercent_SwitchesToUltraEfficiencyAndPublishesWhy()
    {
        await WaitForStateAsync(s => s.EffectiveMode == EfficiencyMode.Performance);
        _machine.SetAcPower(false);
        _machine.SetBatteryPercent(15);

        AdvanceToNextSample(); // the power actor's next sample

        var state = await WaitForStateAsync(s => s.EffectiveMode == EfficiencyMode.UltraEfficiency);
        Assert.Equal(15, state.BatteryPercent);
        Assert.False(state.OnAcPower);
        var change = await _events.FishForMessageAsync<EfficiencyModeChanged>(c => c.To == EfficiencyMode.UltraEfficiency, Wait);
        Assert.Contains("20", change.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Auto_BatteryBetweenTwentyAndFifty_RunsEfficiency()
    {
        _machine.SetAcPower(false);
        _machine.SetBatteryPercent(35);
        AdvanceToNextSample();

        await WaitForStateAsync(s => s.EffectiveMode == EfficiencyMode.Efficiency);
    }

    [Fact]
    public async Task SetMode_UserChoice_OverridesAutoAndIsAnsweredWithTheNewState()
    {
        var state = await _efficiency.Ask<SystemState>(new SetEfficiencyMode(EfficiencyMode.Quiet), Wait);

        Assert.Equal(EfficiencyMode.Quiet, state.Mode);
        Assert.Equal(EfficiencyMode.Quiet, state.EffectiveMode);
        await _events.FishForMessageAsync<EfficiencyModeChanged>(c => c.Mode == EfficiencyMode.Quiet, Wait);
    }

    [Fact]
    public async Task ThermalActor_DeviceCrossesItsLimit_PublishesEventAndStateCarriesTheTemperature()
    {
        _machine.SetTemperature("ollama-nvidia", 97);
        AdvanceToNextSample();

        var evt = await _events.FishForMessageAsync<ThermalEvent>(e => e.Kind == "over-limit", Wait);
        Assert.Equal("ollama-nvidia", evt.BackendId);
        Assert.Equal(97, evt.TemperatureC);
        var state = await WaitForStateAsync(s => s.ThermalByBackend.TryGetValue("ollama-nvidia", out var t) && t.TemperatureC == 97);
        Assert.Equal(95, state.ThermalByBackend["ollama-nvidia"].LimitC);
        // Hot machine: Auto goes quiet.
        Assert.Equal(EfficiencyMode.Quiet, state.EffectiveMode);
    }

    [Fact]
    public async Task ThermalActor_ThrottlingStartsAndStops_PublishesBothEvents()
    {
        _machine.SetThrottling(true);
        AdvanceToNextSample();
        await _events.FishForMessageAsync<ThermalEvent>(e => e.Kind == "throttling-started", Wait);

        _machine.SetThrottling(false);
        AdvanceToNextSample();
        await _events.FishForMessageAsync<ThermalEvent>(e => e.Kind == "throttling-stopped", Wait);
        await WaitForStateAsync(s => !s.Throttling);
    }
}
