using Router.Actors.Config;
using Router.Telemetry.Sensors;

namespace Router.Tests.Telemetry;

/// <summary>A sysfs tree in a temporary directory, removed on dispose.</summary>
internal sealed class FakeSysfs : IDisposable
{
    public FakeSysfs()
    {
        Root = Directory.CreateTempSubdirectory("fake-sysfs-").FullName;
    }

    public string Root { get; }

    public TelemetryConfig Config => new() { SysfsRoot = Root, NvidiaSmi = false };

    public FakeSysfs Write(string relativePath, string content)
    {
        var path = Path.Combine(Root, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content + "\n");
        return this;
    }

    public FakeSysfs Delete(string relativePath)
    {
        File.Delete(Path.Combine(Root, relativePath));
        return this;
    }

    public string PathOf(string relativePath) => Path.Combine(Root, relativePath);

    /// <summary>
    /// A typical laptop: two thermal zones, coretemp with labels, a ThinkPad EC chip with a fan and an
    /// unlabelled temperature, AC online and one charging battery, two CPUs with throttle counters,
    /// and RAPL package, core and uncore domains.
    /// </summary>
    public static FakeSysfs Laptop() => new FakeSysfs()
        .Write("class/thermal/thermal_zone0/type", "acpitz")
        .Write("class/thermal/thermal_zone0/temp", "45000")
        .Write("class/thermal/thermal_zone1/type", "x86_pkg_temp")
        .Write("class/thermal/thermal_zone1/temp", "62500")
        .Write("class/hwmon/hwmon0/name", "coretemp")
        .Write("class/hwmon/hwmon0/temp1_input", "63000")
        .Write("class/hwmon/hwmon0/temp1_label", "Package id 0")
        .Write("class/hwmon/hwmon0/temp2_input", "58000")
        .Write("class/hwmon/hwmon0/temp2_label", "Core 0")
        .Write("class/hwmon/hwmon0/temp1_crit", "100000")
        .Write("class/hwmon/hwmon1/name", "thinkpad")
        .Write("class/hwmon/hwmon1/temp1_input", "50000")
        .Write("class/hwmon/hwmon1/fan1_input", "2400")
        .Write("class/power_supply/AC/type", "Mains")
        .Write("class/power_supply/AC/online", "1")
        .Write("class/power_supply/BAT0/type", "Battery")
        .Write("class/power_supply/BAT0/present", "1")
        .Write("class/power_supply/BAT0/status", "Charging")
        .Write("class/power_supply/BAT0/capacity", "76")
        .Write("class/power_supply/BAT0/power_now", "12500000")
        .Write("class/power_supply/BAT0/energy_now", "38000000")
        .Write("class/power_supply/BAT0/energy_full", "50000000")
        .Write("devices/system/cpu/cpu0/thermal_throttle/core_throttle_count", "3")
        .Write("devices/system/cpu/cpu0/thermal_throttle/package_throttle_count", "10")
        .Write("devices/system/cpu/cpu1/thermal_throttle/core_throttle_count", "2")
        .Write("devices/system/cpu/cpu1/thermal_throttle/package_throttle_count", "10")
        .Write("devices/system/cpu/cpufreq/boost", "1")
        .Write("class/powercap/intel-rapl/enabled", "1")
        .Write("class/powercap/intel-rapl:0/name", "package-0")
        .Write("class/powercap/intel-rapl:0/energy_uj", "1000000")
        .Write("class/powercap/intel-rapl:0/max_energy_range_uj", "262143328850")
        .Write("class/powercap/intel-rapl:0:0/name", "core")
        .Write("class/powercap/intel-rapl:0:0/energy_uj", "500000")
        .Write("class/powercap/intel-rapl:0:0/max_energy_range_uj", "262143328850")
        .Write("class/powercap/intel-rapl:0:1/name", "uncore")
        .Write("class/powercap/intel-rapl:0:1/energy_uj", "200000")
        .Write("class/powercap/intel-rapl:0:1/max_energy_range_uj", "262143328850");

    public void Dispose() => Directory.Delete(Root, recursive: true);
}

/// <summary>Real files, except that paths the predicate picks fail with EACCES, as they would for a user who is not root.</summary>
internal sealed class DenyingSysfsAccess(Func<string, bool> denied) : ISysfsAccess
{
    public SysfsRead Read(string path) =>
        denied(path) ? new SysfsRead(SysfsStatus.Denied, "", path) : SysfsAccess.Instance.Read(path);

    public IReadOnlyList<string> List(string directory, string pattern) => SysfsAccess.Instance.List(directory, pattern);
}

/// <summary>Where the telemetry tests' clocks (FakeTimeProvider) start.</summary>
internal static class TestClock
{
    public static readonly DateTimeOffset Start = new(2026, 1, 15, 12, 0, 0, TimeSpan.Zero);

    /// <summary>A clock that moves only when told to, at <see cref="Start"/>.</summary>
    public static Microsoft.Extensions.Time.Testing.FakeTimeProvider Create() => new(Start);
}

/// <summary>An executable shell script in a temporary directory, removed on dispose.</summary>
internal sealed class FakeExecutable : IDisposable
{
    private readonly string _dir;

    public FakeExecutable(string name, string body)
    {
        _dir = Directory.CreateTempSubdirectory("fake-exe-").FullName;
        Path = System.IO.Path.Combine(_dir, name);
        File.WriteAllText(Path, "#!/bin/sh\n" + body + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    public string Path { get; }

    public string Folder => _dir;

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
