using System.Collections.Immutable;

namespace Router.Actors.State;

/// <summary>
/// A machine the router cannot read: on AC, no battery, no temperatures, nothing measured. The
/// sources of a runtime that was given none (a host that reads no sensors), said out loud rather
/// than a simulation standing in silently.
/// </summary>
public sealed class UnmeasuredMachine : IPowerSource, IThermalSource
{
    public static readonly UnmeasuredMachine Instance = new(TimeProvider.System);

    private readonly TimeProvider _time;

    public UnmeasuredMachine(TimeProvider time) => _time = time;

    public ValueTask<PowerReading> ReadPowerAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult(PowerReading.Unknown(_time.GetUtcNow()));

    public ValueTask<ThermalReading> ReadThermalAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult(ThermalReading.Unknown(_time.GetUtcNow()));
}
