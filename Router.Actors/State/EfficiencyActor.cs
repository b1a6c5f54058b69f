using System.Collections.Immutable;
using Router.Actors.Config;
using Router.Actors.Routing;
using Router.Actors.Runtime;

namespace Router.Actors.State;

/// <summary>Sets the user's efficiency mode; answered with the resulting <see cref="SystemState"/>.</summary>
public sealed record SetEfficiencyMode(EfficiencyMode Mode) : IPriorityMessage
{
    public Priority Priority => Priority.High;
}

/// <summary>Asks for the current <see cref="SystemState"/>.</summary>
public sealed class GetSystemState
{
    public static readonly GetSystemState Instance = new();
    private GetSystemState() { }
}

/// <summary>Published whenever the mode in effect changes, with its reason.</summary>
public sealed record EfficiencyModeChanged(EfficiencyMode Mode, EfficiencyMode From, EfficiencyMode To, string Reason, DateTimeOffset At);

/// <summary>
/// Holds the user's mode and, from the latest power and thermal readings, the mode in effect.
/// Publishes the combined <see cref="SystemState"/> on every change; the selector routes by it.
/// </summary>
public sealed class EfficiencyActor : ReceiveActor
{
    private readonly ImmutableDictionary<string, SensorConfig> _sensors;
    private readonly ModeThresholds _thresholds;
    private PowerReading _power;
    private ThermalReading _thermal;
    private SystemState _state;

    public EfficiencyActor(EfficiencyMode initialMode, ImmutableDictionary<string, SensorConfig> sensorsByBackend, ModeThresholds? thresholds = null)
    {
        _sensors = sensorsByBackend;
        _thresholds = thresholds ?? ModeThresholds.Default;
        var now = Context.TimeProvider.GetUtcNow();
        _power = PowerReading.Unknown(now);
        _thermal = ThermalReading.Unknown(now);
        _state = SystemState.Default with { Mode = initialMode, EffectiveMode = initialMode };

        Receive<SetEfficiencyMode>(m =>
        {
            _state = _state with { Mode = m.Mode };
            Recompute(ModeResolver.UserSelectedReason);
            Sender.Tell(_state);
        });
        Receive<GetSystemState>(_ => Sender.Tell(_state));
        Receive<PowerReading>(r =>
        {
            _power = r;
            Recompute(null);
        });
        Receive<ThermalReading>(r =>
        {
            _thermal = r;
            Recompute(null);
        });
    }

    protected override void PreStart()
    {
        // Also subscribed by whoever creates it, before the samplers start (RouterRuntime); here for
        // any other creator. Subscribing twice changes nothing.
        Context.System.EventStream.Subscribe<PowerReading>(Self);
        Context.System.EventStream.Subscribe<ThermalReading>(Self);
        Recompute("configured default");
    }

    private void Recompute(string? userReason)
    {
        var previous = _state;
        var resolution = ModeResolver.Resolve(
            _state.Mode,
            previous.EffectiveMode,
            new ModeReadings(_power.OnAcPower, _power.BatteryPercent, _thermal.MaxTemperatureC, _thermal.Throttling) { PowerProfile = _power.PowerProfile },
            _thresholds);

        var thermals = ImmutableDictionary.CreateBuilder<string, DeviceThermal>();
        foreach (var (backend, sensor) in _sensors)
        {
            double? temperature = _thermal.TemperatureByBackend.TryGetValue(backend, out var t) ? t : null;
            thermals[backend] = new DeviceThermal(temperature, sensor.HotC, sensor.LimitC);
        }

        _state = _state with
        {
            EffectiveMode = resolution.EffectiveMode,
            ModeReason = _state.Mode == EfficiencyMode.Auto ? resolution.Reason : userReason ?? previous.ModeReason,
            OnAcPower = _power.OnAcPower,
            BatteryPercent = _power.BatteryPercent,
            TimeToEmpty = _power.TimeToEmpty,
            PowerProfile = _power.PowerProfile,
            Throttling = _thermal.Throttling,
            MaxTemperatureC = _thermal.MaxTemperatureC,
            ThermalByBackend = thermals.ToImmutable(),
        };

        if (_state == previous && userReason is null)
        {
            return;
        }

        var events = Context.System.EventStream;
        events.Publish(_state);
        if (previous.EffectiveMode != _state.EffectiveMode || previous.Mode != _state.Mode)
        {
            events.Publish(new EfficiencyModeChanged(_state.Mode, previous.EffectiveMode, _state.EffectiveMode, _state.ModeReason, Context.TimeProvider.GetUtcNow()));
        }
    }
}
