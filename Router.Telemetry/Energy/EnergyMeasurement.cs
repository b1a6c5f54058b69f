namespace Router.Telemetry.Energy;

/// <summary>Whether an energy figure was measured (RAPL, nvidia-smi) or estimated (configured power × busy time).</summary>
public enum EnergyBasis
{
    Estimated,
    Measured,
}

/// <summary>A request's busy interval, opened by <see cref="EnergyMeter.Begin"/> and closed by <see cref="EnergyMeter.End"/>.</summary>
/// <param name="PowerSource">RAPL domain or <c>nvidia-smi</c> that measures the device, or null.</param>
/// <param name="ConfiguredWatts">The backend's configured (or learnt) power while busy, for the estimate.</param>
/// <param name="StartJoules">The source's energy counter at <paramref name="Start"/>, or null when it was not measuring.</param>
public readonly record struct EnergySpan(string BackendId, string? PowerSource, double ConfiguredWatts, DateTimeOffset Start, double? StartJoules);

/// <summary>The energy of one request.</summary>
/// <param name="AverageWatts">Energy over busy time: the measured average, or the configured power.</param>
public readonly record struct EnergyMeasurement(string BackendId, double WattHours, EnergyBasis Basis, TimeSpan BusyTime, double AverageWatts);

/// <summary>Energy a backend has used since start, split by basis.</summary>
public readonly record struct EnergyTotals(double MeasuredWattHours, double EstimatedWattHours, long Requests)
{
    public double WattHours => MeasuredWattHours + EstimatedWattHours;
}
