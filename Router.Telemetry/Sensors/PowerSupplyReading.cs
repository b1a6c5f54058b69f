using System.Collections.Immutable;

namespace Router.Telemetry.Sensors;

/// <summary>The kernel's battery <c>status</c> attribute.</summary>
public enum BatteryStatus
{
    Unknown,
    Charging,
    Discharging,
    NotCharging,
    Full,
}

/// <summary>One battery, in watts and watt-hours (converted from the kernel's µW and µWh).</summary>
/// <param name="CapacityPercent">The <c>capacity</c> attribute, 0..100.</param>
/// <param name="PowerWatts"><c>power_now</c>, or <c>current_now × voltage_now</c> where the driver reports current.</param>
/// <param name="EnergyWh"><c>energy_now</c>, or <c>charge_now × voltage_now</c>.</param>
/// <param name="EnergyFullWh"><c>energy_full</c>, or <c>charge_full × voltage_now</c>.</param>
public sealed record BatteryReading(
    string Name,
    double? CapacityPercent,
    BatteryStatus Status,
    double? PowerWatts,
    double? EnergyWh,
    double? EnergyFullWh,
    string? UnavailableReason = null)
{
    public bool IsAvailable => CapacityPercent.HasValue;
}

/// <summary>
/// AC and batteries at one instant. Several batteries combine into one figure: charge weighted by
/// their energy where known, power and energy summed, status Discharging when any discharges.
/// </summary>
public sealed record PowerSupplyReading(DateTimeOffset Timestamp)
{
    /// <summary>True when any mains or USB supply is online; false when adapters exist and none is; null when the machine has none.</summary>
    public bool? AcOnline { get; init; }

    public ImmutableArray<BatteryReading> Batteries { get; init; } = [];

    /// <summary>Combined charge 0..100, or null when no battery is readable.</summary>
    public double? BatteryPercent { get; init; }

    public BatteryStatus BatteryStatus { get; init; }

    /// <summary>Combined battery power draw (or charge rate) in watts, or null.</summary>
    public double? BatteryPowerWatts { get; init; }

    /// <summary>Combined remaining battery energy in watt-hours, or null.</summary>
    public double? BatteryEnergyWh { get; init; }

    /// <summary>Why nothing at all could be read (no power_supply class), or null.</summary>
    public string? UnavailableReason { get; init; }

    public bool IsAvailable => UnavailableReason is null;

    public bool HasBattery => BatteryPercent.HasValue;

    /// <summary>
    /// Whether the machine runs on external power: the adapters' word when there are adapters; else
    /// on battery only while a battery discharges; a machine with neither (a desktop) is on AC.
    /// </summary>
    public bool OnAcPower => AcOnline ?? BatteryStatus != BatteryStatus.Discharging;
}
