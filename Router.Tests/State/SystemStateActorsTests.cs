using System.Collections.Immutable;
using Router.Actors.Config;
using Router.Actors.Routing;
using Router.Actors.Runtime;
using Router.Actors.State;
using Router.Tests.TestKit;

namespace Router.Tests.State;

public sealed class SystemStateActorsTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan SampleInterval = TimeSpan.FromSeconds(2);
    private readonly ManualTimeProvider _time = new();
    private readonly ImmutableDictionary<string, SensorConfig> _sensors = ImmutableDictionary<string, SensorConfig>.Empty
        .Add("ollama-nvidia", new SensorConfig { HotC = 80, LimitC = 95 })
        .Add("ollama-npu", new SensorConfig { HotC = 80, LimitC = 95 });
    private ActorSystem _system = null!;
    private SimulatedMachine _machine = null!;
    private IActorRef _efficiency = null!;
    private TestProbe _events = null!;

    public Task InitializeAsync()
    {
        _system = ActorSystem.Create("state-tests", new ActorSystemOptions { TimeProvider = _time });
        _machine = new SimulatedMachine(_time);
        _events = new TestProbe(_system);
        _system.EventStream.Subscribe<EfficiencyModeChanged>(_events.Ref);
        _system.EventStream.Subscribe<ThermalEvent>(_events.Ref);
        _efficiency = _system.ActorOf(Props.Create(() => new EfficiencyActor(EfficiencyMode.Auto, _sensors)), "efficiency");
        _system.ActorOf(Props.Create(() => new PowerActor(_machine, SampleInterval, _time)), "power");
        _system.ActorOf(Props.Create(() => new ThermalActor(_machine, _sensors, SampleInterval, _time)), "thermal");
        // Both samplers' timers must exist before a test advances the clock, or that advance passes
        // before they are scheduled and the sample never comes (seen on a loaded machine).
        Awaiting.AwaitCondition(() => _time.ActiveTimers >= 2, Wait, "the power and thermal actors scheduled their samples");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _system.TerminateAsync();

    private async Task<SystemState> WaitForStateAsync(Func<SystemState, bool> condition)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (true)
        {
            var state = await _efficiency.Ask<SystemState>(GetSystemState.Instance, Wait);
            if (condition(state))
            {
                return state;
            }

            Assert.True(DateTime.UtcNow < deadline, $"state never matched; last: {state}");
            await Task.Yield();
        }
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

        _time.Advance(SampleInterval); // the power actor's next sample

        var state = await WaitForStateAsync(s => s.EffectiveMode == EfficiencyMode.UltraEfficiency);
        Assert.Equal(15, state.BatteryPercent);
        Assert.False(state.OnAcPower);
        var change = _events.FishForMessage<EfficiencyModeChanged>(c => c.To == EfficiencyMode.UltraEfficiency, Wait);
        Assert.Contains("20", change.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Auto_BatteryBetweenTwentyAndFifty_RunsEfficiency()
    {
        _machine.SetAcPower(false);
        _machine.SetBatteryPercent(35);
        _time.Advance(SampleInterval);

        await WaitForStateAsync(s => s.EffectiveMode == EfficiencyMode.Efficiency);
    }

    [Fact]
    public async Task SetMode_UserChoice_OverridesAutoAndIsAnsweredWithTheNewState()
    {
        var state = await _efficiency.Ask<SystemState>(new SetEfficiencyMode(EfficiencyMode.Quiet), Wait);

        Assert.Equal(EfficiencyMode.Quiet, state.Mode);
        Assert.Equal(EfficiencyMode.Quiet, state.EffectiveMode);
        _events.FishForMessage<EfficiencyModeChanged>(c => c.Mode == EfficiencyMode.Quiet, Wait);
    }

    [Fact]
    public async Task ThermalActor_DeviceCrossesItsLimit_PublishesEventAndStateCarriesTheTemperature()
    {
        _machine.SetTemperature("ollama-nvidia", 97);
        _time.Advance(SampleInterval);

        var evt = _events.FishForMessage<ThermalEvent>(e => e.Kind == "over-limit", Wait);
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
        _time.Advance(SampleInterval);
        _events.FishForMessage<ThermalEvent>(e => e.Kind == "throttling-started", Wait);

        _machine.SetThrottling(false);
        _time.Advance(SampleInterval);
        _events.FishForMessage<ThermalEvent>(e => e.Kind == "throttling-stopped", Wait);
        await WaitForStateAsync(s => !s.Throttling);
    }
}
