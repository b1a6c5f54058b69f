using System.Collections.Immutable;
using Akka.Actor;
using Router.Actors.Config;
using Router.Actors.Routing;

namespace Router.Actors.State;

/// <summary>Sets the user's efficiency mode; answered with the resulting <see cref="SystemState"/>.</summary>
public sealed record SetEfficiencyMode(EfficiencyMode Mode);

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
/// Publishes the combined <see cref="SystemState"/> on every change; the routing table follows it.
/// </summary>
public sealed class EfficiencyActor : ReceiveActor, IWithTimers
{
    public const string Name = "efficiency";
    private const string QuietHoldTimer = "quiet-hold";

    private readonly ImmutableDictionary<string, SensorConfig> _sensors;
    private readonly TimeProvider _time;
    private readonly ModeThresholds _thresholds;
    private PowerReading _power;
    private ThermalReading _thermal;
    private SystemState _state;
    // When the machine last became cool while Auto held Quiet for heat or throttling (null: not cool, or not in that Quiet).
    private DateTimeOffset? _coolSince;
    // Auto itself chose Quiet (not the user) at the last recompute.
    private bool _autoQuiet;

    public EfficiencyActor(EfficiencyMode initialMode, ImmutableDictionary<string, SensorConfig> sensorsByBackend, TimeProvider time, ModeThresholds? thresholds = null)
    {
        ArgumentNullException.ThrowIfNull(time);
        _sensors = sensorsByBackend;
        _time = time;
        _thresholds = thresholds ?? ModeThresholds.Default;
        var now = time.GetUtcNow();
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
        Receive<QuietHoldEnded>(_ => Recompute(null));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>
    /// Subscribes <paramref name="efficiency"/> to the readings. Done by its creator before the
    /// samplers exist, not in PreStart: a first reading published before the actor has started
    /// would be lost, and Auto would not see the machine until the next sample.
    /// </summary>
    public static void Subscribe(ActorSystem system, IActorRef efficiency)
    {
        ArgumentNullException.ThrowIfNull(system);
        system.EventStream.Subscribe(efficiency, typeof(PowerReading));
        system.EventStream.Subscribe(efficiency, typeof(ThermalReading));
    }

    protected override void PreStart() => Recompute("configured default");

    private void Recompute(string? userReason)
    {
        var previous = _state;
        var resolution = ModeResolver.Resolve(
            _state.Mode,
            previous.EffectiveMode,
            new ModeReadings(_power.OnAcPower, _power.BatteryPercent, _thermal.MaxTemperatureC, _thermal.Throttling)
            {
                PowerProfile = _power.PowerProfile,
                HottestBackend = HottestBackend(_thermal),
                CoolFor = CoolFor(),
            },
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

        _autoQuiet = _state.Mode == EfficiencyMode.Auto && _state.EffectiveMode == EfficiencyMode.Quiet;
        if (_coolSince is { } coolSince && _autoQuiet)
        {
            // Look again when the hold ends: a machine that stays cool publishes no new readings.
            if (!Timers.IsTimerActive(QuietHoldTimer))
            {
                var left = coolSince + _thresholds.QuietHold - _time.GetUtcNow();
                Timers.StartSingleTimer(QuietHoldTimer, QuietHoldEnded.Instance, left > TimeSpan.Zero ? left : TimeSpan.FromMilliseconds(1));
            }
        }
        else
        {
            Timers.Cancel(QuietHoldTimer);
        }

        if (_state == previous && userReason is null)
        {
            return;
        }

        var events = Context.System.EventStream;
        events.Publish(_state);
        if (previous.EffectiveMode != _state.EffectiveMode || previous.Mode != _state.Mode)
        {
            events.Publish(new EfficiencyModeChanged(_state.Mode, previous.EffectiveMode, _state.EffectiveMode, _state.ModeReason, _time.GetUtcNow()));
        }
    }

    /// <summary>
    /// How long the machine has been cool since Auto held Quiet (null when Auto is not holding a
    /// Quiet of its own: the user's Quiet, given up for Auto, is left at once).
    /// </summary>
    private TimeSpan? CoolFor()
    {
        bool cool = !_thermal.Throttling
            && (_thermal.MaxTemperatureC is not { } t || t <= _thresholds.HotC - _thresholds.TemperatureMarginC);
        if (!_autoQuiet || !cool)
        {
            _coolSince = null;
            return null;
        }

        var now = _time.GetUtcNow();
        _coolSince ??= now;
        return now - _coolSince.Value;
    }

    /// <summary>The backend whose device is the machine's hottest reading, if that reading is a backend's.</summary>
    private static string? HottestBackend(ThermalReading thermal)
    {
        string? hottest = null;
        double highest = double.MinValue;
        foreach (var (backend, temperature) in thermal.TemperatureByBackend)
        {
            if (temperature > highest || (temperature == highest && string.CompareOrdinal(backend, hottest) < 0))
            {
                (hottest, highest) = (backend, temperature);
            }
        }

        return thermal.MaxTemperatureC is { } max && highest >= max ? hottest : null;
    }

    /// <summary>The machine has stayed cool for the whole <see cref="ModeThresholds.QuietHold"/>: Auto may leave Quiet.</summary>
    private sealed class QuietHoldEnded
    {
        public static readonly QuietHoldEnded Instance = new();
        private QuietHoldEnded() { }
    }
}
