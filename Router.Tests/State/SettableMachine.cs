using System.Collections.Immutable;

using Router.Actors.State;

namespace Router.Tests.State;

/// <summary>
/// A machine whose battery, AC and temperatures a test sets, for the state actors' tests (the
/// daemon's --simulate machine is Router.Gateway's SimulatedLaptop). Thread-safe: each setter swaps
/// an immutable state.
/// </summary>
internal sealed class SettableMachine : IPowerSource, IThermalSource
{
    private readonly TimeProvider _time;
    private State _state = new(true, null, ImmutableDictionary<string, double>.Empty, ImmutableDictionary<string, double>.Empty, false);

    public SettableMachine(TimeProvider? time = null) => _time = time ?? TimeProvider.System;

    private sealed record State(
        bool OnAc,
        double? Battery,
        ImmutableDictionary<string, double> Temperatures,
        ImmutableDictionary<string, double> Watts,
        bool Throttling);

    public bool OnAcPower => Volatile.Read(ref _state).OnAc;
    public double? BatteryPercent => Volatile.Read(ref _state).Battery;

    public void SetAcPower(bool online) => Update(s => s with { OnAc = online });

    public void SetBatteryPercent(double? percent)
    {
        if (percent is < 0 or > 100)
        {
            throw new ArgumentOutOfRangeException(nameof(percent), percent, "Battery charge is a percentage from 0 to 100.");
        }

        Update(s => s with { Battery = percent });
    }

    public void SetTemperature(string backendId, double? celsius) =>
        Update(s => s with { Temperatures = celsius is { } c ? s.Temperatures.SetItem(backendId, c) : s.Temperatures.Remove(backendId) });

    public void SetMeasuredPower(string backendId, double? watts) =>
        Update(s => s with { Watts = watts is { } w ? s.Watts.SetItem(backendId, w) : s.Watts.Remove(backendId) });

    public void SetThrottling(bool throttling) => Update(s => s with { Throttling = throttling });

    public ValueTask<PowerReading> ReadPowerAsync(CancellationToken cancellationToken)
    {
        var s = Volatile.Read(ref _state);
        return ValueTask.FromResult(new PowerReading(s.OnAc, s.Battery, s.Watts, _time.GetUtcNow()));
    }

    public ValueTask<ThermalReading> ReadThermalAsync(CancellationToken cancellationToken)
    {
        var s = Volatile.Read(ref _state);
        double? max = null;
        foreach (var t in s.Temperatures.Values)
        {
            max = max is null ? t : Math.Max(max.Value, t);
        }

        return ValueTask.FromResult(new ThermalReading(s.Temperatures, max, s.Throttling, ImmutableDictionary<string, double>.Empty, _time.GetUtcNow()));
    }

    private void Update(Func<State, State> change)
    {
        while (true)
        {
            var current = Volatile.Read(ref _state);
            if (ReferenceEquals(Interlocked.CompareExchange(ref _state, change(current), current), current))
            {
                return;
            }
        }
    }
}
