using System.Collections.Immutable;
using Router.Actors.Config;

namespace Router.Telemetry.Sensors;

/// <summary>
/// Reads <c>class/power_supply/*</c>: adapters (<c>type</c> Mains or USB, <c>online</c>) and system
/// batteries (<c>type</c> Battery; <c>capacity</c> %, <c>status</c>, <c>power_now</c> µW,
/// <c>energy_now</c>/<c>energy_full</c> µWh, or their <c>current_now</c> µA / <c>charge_*</c> µAh
/// forms with <c>voltage_now</c> µV). Peripheral batteries (<c>scope</c> Device) are ignored.
/// </summary>
public sealed class PowerSupplyReader
{
    private const double Micro = 1e-6;
    private const double MicroSquared = 1e-12;

    private readonly string _classDir;
    private readonly ISysfsAccess _access;
    private readonly TimeProvider _time;

    public PowerSupplyReader(TelemetryConfig config, TimeProvider timeProvider)
        : this(config, timeProvider, SysfsAccess.Instance)
    {
    }

    internal PowerSupplyReader(TelemetryConfig config, TimeProvider timeProvider, ISysfsAccess access)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _classDir = Path.Combine(config.SysfsRoot, "class", "power_supply");
        _access = access;
        _time = timeProvider;
    }

    public PowerSupplyReading Read()
    {
        var now = _time.GetUtcNow();
        var supplies = _access.List(_classDir, "*");
        if (supplies.Count == 0)
        {
            return new PowerSupplyReading(now) { UnavailableReason = $"no power supplies under {_classDir}" };
        }

        bool? acOnline = null;
        var batteries = ImmutableArray.CreateBuilder<BatteryReading>();
        foreach (var supply in supplies)
        {
            var type = _access.Read(Path.Combine(supply, "type"));
            if (!type.Ok)
            {
                continue;
            }

            switch (type.Text)
            {
                case "Mains" or "USB" or "USB_C" or "USB_PD" or "Wireless":
                    // An adapter whose online cannot be read says nothing either way.
                    if (SysfsNames.TryReadLong(_access, Path.Combine(supply, "online"), out var online, out _))
                    {
                        acOnline = (acOnline ?? false) || online != 0;
                    }

                    break;
                case "Battery" when IsSystemBattery(supply):
                    batteries.Add(ReadBattery(supply));
                    break;
            }
        }

        return Combine(now, acOnline, batteries.ToImmutable());
    }

    private bool IsSystemBattery(string supply)
    {
        var scope = _access.Read(Path.Combine(supply, "scope"));
        if (scope.Ok && scope.Text == "Device")
        {
            return false;
        }

        return !SysfsNames.TryReadLong(_access, Path.Combine(supply, "present"), out var present, out _) || present != 0;
    }

    private BatteryReading ReadBattery(string supply)
    {
        var name = Path.GetFileName(supply);
        var status = ParseStatus(_access.Read(Path.Combine(supply, "status")));
        var voltage = Optional(supply, "voltage_now");

        var power = Optional(supply, "power_now") is { } microWatts
            ? Math.Abs(microWatts) * Micro
            : Optional(supply, "current_now") is { } microAmps && voltage is { } v1
                ? Math.Abs(microAmps) * v1 * MicroSquared
                : (double?)null;
        var energy = Optional(supply, "energy_now") is { } microWh
            ? microWh * Micro
            : Optional(supply, "charge_now") is { } microAh && voltage is { } v2 ? microAh * v2 * MicroSquared : (double?)null;
        var energyFull = Optional(supply, "energy_full") is { } fullMicroWh
            ? fullMicroWh * Micro
            : Optional(supply, "charge_full") is { } fullMicroAh && voltage is { } v3 ? fullMicroAh * v3 * MicroSquared : (double?)null;

        var capacityPath = Path.Combine(supply, "capacity");
        if (SysfsNames.TryReadLong(_access, capacityPath, out var capacity, out var reason))
        {
            return capacity is >= 0 and <= 100
                ? new BatteryReading(name, capacity, status, power, energy, energyFull)
                : new BatteryReading(name, null, status, power, energy, energyFull, $"{capacityPath} reads {capacity} %, outside 0..100");
        }

        // Some drivers lack capacity but report energy; derive the charge from it.
        return energy is { } e && energyFull is { } f && f > 0
            ? new BatteryReading(name, Math.Clamp(100 * e / f, 0, 100), status, power, energy, energyFull)
            : new BatteryReading(name, null, status, power, energy, energyFull, reason);
    }

    private long? Optional(string supply, string attribute) =>
        SysfsNames.TryReadLong(_access, Path.Combine(supply, attribute), out var value, out _) ? value : null;

    private static BatteryStatus ParseStatus(SysfsRead read) => !read.Ok ? BatteryStatus.Unknown : read.Text switch
    {
        "Charging" => BatteryStatus.Charging,
        "Discharging" => BatteryStatus.Discharging,
        "Not charging" => BatteryStatus.NotCharging,
        "Full" => BatteryStatus.Full,
        _ => BatteryStatus.Unknown,
    };

    /// <summary>Several batteries read as one: what a user means by "the battery".</summary>
    private static PowerSupplyReading Combine(DateTimeOffset now, bool? acOnline, ImmutableArray<BatteryReading> batteries)
    {
        double energySum = 0, fullSum = 0, capacitySum = 0, powerSum = 0;
        int withCapacity = 0, withEnergy = 0, withPower = 0;
        bool any = false, charging = false, discharging = false, allFull = true, notCharging = false;
        foreach (var battery in batteries)
        {
            if (battery.CapacityPercent is not { } capacity)
            {
                continue;
            }

            any = true;
            capacitySum += capacity;
            withCapacity++;
            if (battery.EnergyWh is { } e && battery.EnergyFullWh is { } f && f > 0)
            {
                energySum += e;
                fullSum += f;
                withEnergy++;
            }

            if (battery.PowerWatts is { } p)
            {
                powerSum += p;
                withPower++;
            }

            charging |= battery.Status == BatteryStatus.Charging;
            discharging |= battery.Status == BatteryStatus.Discharging;
            notCharging |= battery.Status == BatteryStatus.NotCharging;
            allFull &= battery.Status == BatteryStatus.Full;
        }

        if (!any)
        {
            return new PowerSupplyReading(now) { AcOnline = acOnline, Batteries = batteries };
        }

        // Weight by energy when every battery reports it (a 20 Wh and a 60 Wh battery are not equal halves).
        var percent = withEnergy == withCapacity ? 100 * energySum / fullSum : capacitySum / withCapacity;
        var status = discharging ? BatteryStatus.Discharging
            : charging ? BatteryStatus.Charging
            : allFull ? BatteryStatus.Full
            : notCharging ? BatteryStatus.NotCharging
            : BatteryStatus.Unknown;
        return new PowerSupplyReading(now)
        {
            AcOnline = acOnline,
            Batteries = batteries,
            BatteryPercent = Math.Clamp(percent, 0, 100),
            BatteryStatus = status,
            BatteryPowerWatts = withPower > 0 ? powerSum : null,
            BatteryEnergyWh = withEnergy > 0 ? energySum : null,
        };
    }
}
