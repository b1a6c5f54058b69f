using Router.Telemetry.Sensors;

namespace Router.Tests.Telemetry.Sensors;

public sealed class PowerSupplyReaderTests
{
    private readonly Microsoft.Extensions.Time.Testing.FakeTimeProvider _time = TestClock.Create();

    [Fact]
    public void Read_AcAndBattery_ConvertsMicroUnitsToWattsAndWattHours()
    {
        using var sysfs = FakeSysfs.Laptop();

        var reading = new PowerSupplyReader(sysfs.Config, _time).Read();

        Assert.True(reading.IsAvailable);
        Assert.True(reading.AcOnline);
        Assert.True(reading.OnAcPower);
        Assert.Equal(76.0, reading.BatteryPercent);
        Assert.Equal(BatteryStatus.Charging, reading.BatteryStatus);
        Assert.Equal(12.5, reading.BatteryPowerWatts);
        Assert.Equal(38.0, reading.BatteryEnergyWh);
        var battery = Assert.Single(reading.Batteries);
        Assert.Equal(("BAT0", 50.0), (battery.Name, battery.EnergyFullWh!.Value));
        Assert.Equal(_time.GetUtcNow(), reading.Timestamp);
    }

    [Fact]
    public void Read_AcOffline_OnBattery()
    {
        using var sysfs = FakeSysfs.Laptop()
            .Write("class/power_supply/AC/online", "0")
            .Write("class/power_supply/BAT0/status", "Discharging");

        var reading = new PowerSupplyReader(sysfs.Config, _time).Read();

        Assert.False(reading.AcOnline);
        Assert.False(reading.OnAcPower);
        Assert.Equal(BatteryStatus.Discharging, reading.BatteryStatus);
    }

    [Fact]
    public void Read_TwoBatteries_CombinedWeightedByEnergy()
    {
        using var sysfs = FakeSysfs.Laptop()
            .Write("class/power_supply/BAT0/status", "Discharging")
            .Write("class/power_supply/BAT1/type", "Battery")
            .Write("class/power_supply/BAT1/status", "Not charging")
            .Write("class/power_supply/BAT1/capacity", "50")
            .Write("class/power_supply/BAT1/power_now", "2500000")
            .Write("class/power_supply/BAT1/energy_now", "10000000")
            .Write("class/power_supply/BAT1/energy_full", "20000000");

        var reading = new PowerSupplyReader(sysfs.Config, _time).Read();

        Assert.Equal(2, reading.Batteries.Length);
        Assert.Equal(100 * 48.0 / 70.0, reading.BatteryPercent!.Value, 9);
        Assert.Equal(BatteryStatus.Discharging, reading.BatteryStatus);
        Assert.Equal(15.0, reading.BatteryPowerWatts);
        Assert.Equal(48.0, reading.BatteryEnergyWh);
    }

    [Fact]
    public void Read_CurrentAndChargeAttributes_DerivesWattsAndWattHours()
    {
        using var sysfs = new FakeSysfs()
            .Write("class/power_supply/BAT1/type", "Battery")
            .Write("class/power_supply/BAT1/status", "Discharging")
            .Write("class/power_supply/BAT1/current_now", "1000000")
            .Write("class/power_supply/BAT1/voltage_now", "12000000")
            .Write("class/power_supply/BAT1/charge_now", "3000000")
            .Write("class/power_supply/BAT1/charge_full", "4000000");

        var reading = new PowerSupplyReader(sysfs.Config, _time).Read();

        Assert.Null(reading.AcOnline);
        Assert.False(reading.OnAcPower);
        Assert.Equal(12.0, reading.BatteryPowerWatts!.Value, 9);
        Assert.Equal(36.0, reading.BatteryEnergyWh!.Value, 9);
        Assert.Equal(75.0, reading.BatteryPercent!.Value, 9);
    }

    [Fact]
    public void Read_PeripheralAndAbsentBatteries_Ignored()
    {
        using var sysfs = FakeSysfs.Laptop()
            .Write("class/power_supply/hidpp_battery_0/type", "Battery")
            .Write("class/power_supply/hidpp_battery_0/scope", "Device")
            .Write("class/power_supply/hidpp_battery_0/capacity", "5")
            .Write("class/power_supply/BAT1/type", "Battery")
            .Write("class/power_supply/BAT1/present", "0")
            .Write("class/power_supply/BAT1/capacity", "0");

        var reading = new PowerSupplyReader(sysfs.Config, _time).Read();

        Assert.Equal("BAT0", Assert.Single(reading.Batteries).Name);
        Assert.Equal(76.0, reading.BatteryPercent);
    }

    [Fact]
    public void Read_NoPowerSupplies_UnavailableButOnAc()
    {
        using var sysfs = new FakeSysfs();

        var reading = new PowerSupplyReader(sysfs.Config, _time).Read();

        Assert.False(reading.IsAvailable);
        Assert.Contains("no power supplies", reading.UnavailableReason, StringComparison.Ordinal);
        Assert.False(reading.HasBattery);
        Assert.True(reading.OnAcPower);
    }

    [Theory]
    [InlineData("full", "holds 'full', not a number")]
    [InlineData("140", "outside 0..100")]
    public void Read_BadCapacityWithoutEnergy_BatteryUnavailableWithReason(string capacity, string reasonPart)
    {
        using var sysfs = FakeSysfs.Laptop()
            .Write("class/power_supply/BAT0/capacity", capacity)
            .Delete("class/power_supply/BAT0/energy_full");

        var reading = new PowerSupplyReader(sysfs.Config, _time).Read();

        var battery = Assert.Single(reading.Batteries);
        Assert.False(battery.IsAvailable);
        Assert.Contains(reasonPart, battery.UnavailableReason, StringComparison.Ordinal);
        Assert.Null(reading.BatteryPercent);
        Assert.True(reading.AcOnline);
    }

    [Fact]
    public void Read_CapacityUnreadable_DerivedFromEnergy()
    {
        using var sysfs = FakeSysfs.Laptop();
        var access = new DenyingSysfsAccess(path => path.EndsWith("/capacity", StringComparison.Ordinal));

        var reading = new PowerSupplyReader(sysfs.Config, _time, access).Read();

        Assert.Equal(76.0, reading.BatteryPercent!.Value, 9);
    }

    [Fact]
    public void Read_EverythingUnreadable_NoBatteryNoAcNeverThrows()
    {
        using var sysfs = FakeSysfs.Laptop();
        var access = new DenyingSysfsAccess(_ => true);

        var reading = new PowerSupplyReader(sysfs.Config, _time, access).Read();

        Assert.Null(reading.AcOnline);
        Assert.Null(reading.BatteryPercent);
        Assert.True(reading.OnAcPower);
    }
}
