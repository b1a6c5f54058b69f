using System.Diagnostics;
using Router.Tests.EndToEnd;
using Router.Tests.TestKit;

namespace Router.Tests.DBus;

/// <summary>
/// A private dbus-daemon for one test class: no service activation (nothing on this machine gets
/// started by a call to a missing name), any name may be owned. Stands in for the session bus or,
/// passed as DBUS_SYSTEM_BUS_ADDRESS, for the system bus.
/// </summary>
internal sealed class PrivateBus : IAsyncDisposable
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private const string Config = """
        <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
         "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
        <busconfig>
          <type>session</type>
          <listen>{0}</listen>
          <auth>EXTERNAL</auth>
          <policy context="default">
            <allow send_destination="*" eavesdrop="true"/>
            <allow eavesdrop="true"/>
            <allow own="*"/>
          </policy>
        </busconfig>
        """;

    private readonly string _folder;
    private readonly string _listen;
    private LineProcess _daemon;

    private PrivateBus(string folder, string listen, LineProcess daemon, string address)
    {
        _folder = folder;
        _listen = listen;
        _daemon = daemon;
        Address = address;
    }

    public string Address { get; private set; }

    /// <param name="fixedSocket">Listen on a socket path of its own (so the bus can be restarted at the same address).</param>
    public static async Task<PrivateBus> StartAsync(bool fixedSocket = false)
    {
        var folder = Directory.CreateTempSubdirectory("ollama-proxy-bus-").FullName;
        var listen = fixedSocket ? "unix:path=" + Path.Combine(folder, "bus") : "unix:tmpdir=" + folder;
        var (daemon, address) = await LaunchAsync(folder, listen);
        return new PrivateBus(folder, listen, daemon, address);
    }

    private static async Task<(LineProcess, string)> LaunchAsync(string folder, string listen)
    {
        var config = Path.Combine(folder, "bus.conf");
        await File.WriteAllTextAsync(config, string.Format(System.Globalization.CultureInfo.InvariantCulture, Config, listen));
        var start = new ProcessStartInfo("dbus-daemon");
        foreach (var arg in new[] { "--config-file=" + config, "--nofork", "--print-address=1" })
        {
            start.ArgumentList.Add(arg);
        }

        var daemon = LineProcess.Start(start, "dbus-daemon");
        var address = await daemon.WaitForLineAsync("unix:", Patience);
        return (daemon, address.Trim());
    }

    /// <summary>Stops the bus (every connection to it drops) and starts a new one at the same address.</summary>
    public async Task RestartAsync()
    {
        await StopAsync();
        (_daemon, Address) = await LaunchAsync(_folder, _listen);
    }

    /// <summary>Stops the bus; every connection to it drops.</summary>
    public async Task StopAsync()
    {
        await _daemon.DisposeAsync();
        var socket = _listen.StartsWith("unix:path=", StringComparison.Ordinal) ? _listen["unix:path=".Length..] : null;
        if (socket is not null && File.Exists(socket))
        {
            File.Delete(socket);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _daemon.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }
}

/// <summary>busctl and gdbus, run against a private bus.</summary>
internal static class BusTools
{
    public const string Name = "ie.fio.OllamaProxy";
    public const string Root = "/ie/fio/OllamaProxy";

    public static Task<ChildProcess.Outcome> BusctlAsync(string address, params string[] args) =>
        RunAsync("busctl", ["--address=" + address, .. args]);

    public static Task<ChildProcess.Outcome> GdbusAsync(params string[] args) => RunAsync("gdbus", args);

    /// <summary><c>gdbus call</c> of <paramref name="method"/> (Interface.Member) on one of the router's objects.</summary>
    public static Task<ChildProcess.Outcome> CallAsync(string address, string objectName, string method, params string[] args) =>
        GdbusAsync(["call", "--address", address, "--dest", Name, "--object-path", Root + "/" + objectName, "--method", method, .. args]);

    /// <summary>Reads a property with busctl; the answer as busctl prints it, e.g. <c>s "auto"</c>.</summary>
    public static async Task<string> GetPropertyAsync(string address, string objectName, string property)
    {
        var outcome = await BusctlAsync(address, "get-property", Name, Root + "/" + objectName, Name + "." + objectName, property);
        Assert.True(outcome.ExitCode == 0, outcome.ToString());
        return outcome.Output.Trim();
    }

    public static async Task<ChildProcess.Outcome> RunAsync(string program, string[] args)
    {
        var start = new ProcessStartInfo(program);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return await ChildProcess.RunAsync(start, PrivateBus.Patience, program + " " + string.Join(' ', args));
    }
}

/// <summary>
/// <c>gdbus monitor</c> on the router's name: every signal it sends, one line each, e.g.
/// <c>/ie/fio/OllamaProxy/Efficiency: ie.fio.OllamaProxy.Efficiency.ModeChanged ('balanced', 'quiet', 'user-selected')</c>.
/// </summary>
internal sealed class SignalMonitor : IAsyncDisposable
{
    private readonly LineProcess _monitor;

    private SignalMonitor(LineProcess monitor) => _monitor = monitor;

    /// <summary>Starts watching; returns once gdbus has subscribed (it has seen the name's owner).</summary>
    public static async Task<SignalMonitor> StartAsync(string address, string name = BusTools.Name)
    {
        var start = new ProcessStartInfo("gdbus");
        foreach (var arg in new[] { "monitor", "--address", address, "--dest", name })
        {
            start.ArgumentList.Add(arg);
        }

        var monitor = LineProcess.Start(start, "gdbus monitor");
        await monitor.WaitForLineAsync($"The name {name} is owned by", PrivateBus.Patience);
        return new SignalMonitor(monitor);
    }

    /// <summary>
    /// A signal line of <paramref name="member"/> (Interface.Member) on <paramref name="objectName"/>
    /// that contains every one of <paramref name="parts"/>: one seen already, or the next to come.
    /// Signals of different objects or members need not arrive in the order a test waits for them.
    /// </summary>
    public async Task<string> WaitForAsync(string objectName, string member, params string[] parts)
    {
        var prefix = $"{BusTools.Root}/{objectName}: {member} ";
        bool Matches(string line) => line.StartsWith(prefix, StringComparison.Ordinal) && parts.All(p => line.Contains(p, StringComparison.Ordinal));
        string? Seen() => _monitor.Stdout.Split('\n').Select(l => l.TrimEnd('\r')).FirstOrDefault(Matches);

        if (Seen() is { } seen)
        {
            return seen;
        }

        var line = await _monitor.WaitForLineAsync(l => Matches(l) || Seen() is not null, $"{member} from {objectName} with {string.Join(", ", parts)}", PrivateBus.Patience);
        return Matches(line) ? line : Seen()!;
    }

    /// <summary>Every signal line seen so far.</summary>
    public string Output => _monitor.Stdout;

    public ValueTask DisposeAsync() => _monitor.DisposeAsync();
}

/// <summary>The real daemon (ollama-proxy.dll) as a child process, its buses given through the environment.</summary>
internal static class DaemonOnBus
{
    public static LineProcess Start(string? sessionBus, string? systemBus, IEnumerable<string> args, params (string Name, string Value)[] environment)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = AppContext.BaseDirectory };
        start.ArgumentList.Add(CliProcess.GatewayDll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("OLLAMA_PROXY_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(key);
        }

        start.Environment["DBUS_SESSION_BUS_ADDRESS"] = sessionBus ?? TestBuses.Nowhere;
        start.Environment["DBUS_SYSTEM_BUS_ADDRESS"] = systemBus ?? TestBuses.Nowhere;
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        return LineProcess.Start(start, "ollama-proxy");
    }

    /// <summary>The simulated daemon, ten times faster than real devices, on ephemeral ports.</summary>
    public static LineProcess StartSimulated(string? sessionBus, params (string Name, string Value)[] environment) =>
        Start(sessionBus, null, ["--simulate", "--time-scale", "0", "--http-port", "0", "--grpc-port", "0"], environment);

    /// <summary>Waits for the listening line and returns the HTTP endpoint.</summary>
    public static async Task<Uri> WaitUntilListeningAsync(LineProcess daemon)
    {
        var words = (await daemon.WaitForLineAsync("ollama-proxy listening:", PrivateBus.Patience)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return new Uri(words[3]);
    }
}

/// <summary>
/// A python3-dbusmock service on a private bus (Debian's /usr/bin/python3, which sees the gi and
/// dbusmock modules). Its stdout logs every call it receives, one line each.
/// </summary>
internal sealed class DBusMock : IAsyncDisposable
{
    private readonly LineProcess _process;

    private DBusMock(LineProcess process) => _process = process;

    /// <summary>Every call and emitted signal so far, one per line.</summary>
    public string Log => _process.Stdout;

    /// <param name="template">A template name (<c>upower</c>) or the path of a template file.</param>
    /// <param name="system">Put it on the "system" bus (DBUS_SYSTEM_BUS_ADDRESS) rather than the session bus.</param>
    /// <param name="waitFor">The bus name it takes, waited for before returning.</param>
    public static async Task<DBusMock> StartAsync(string busAddress, bool system, string template, string waitFor, string? parameters = null)
    {
        var start = new ProcessStartInfo("/usr/bin/python3");
        foreach (var arg in new[] { "-m", "dbusmock", system ? "--system" : "--session", "--template", template })
        {
            start.ArgumentList.Add(arg);
        }

        if (parameters is not null)
        {
            start.ArgumentList.Add("-p");
            start.ArgumentList.Add(parameters);
        }

        start.Environment[system ? "DBUS_SYSTEM_BUS_ADDRESS" : "DBUS_SESSION_BUS_ADDRESS"] = busAddress;
        // Its call log is how tests see what it received: unbuffered, line by line.
        start.Environment["PYTHONUNBUFFERED"] = "1";
        var process = LineProcess.Start(start, "dbusmock " + template);
        var waited = await BusTools.GdbusAsync("wait", "--address", busAddress, "--timeout", "30", waitFor);
        Assert.True(waited.ExitCode == 0, $"{waitFor} did not appear: {waited}\n{process.Stderr}");
        return new DBusMock(process);
    }

    /// <summary>The next logged call or signal containing every one of <paramref name="parts"/>.</summary>
    public Task<string> WaitForLogAsync(params string[] parts) =>
        _process.WaitForLineAsync(line => parts.All(p => line.Contains(p, StringComparison.Ordinal)), string.Join(" … ", parts), PrivateBus.Patience);

    /// <summary>
    /// power-profiles-daemon 0.20 and later is org.freedesktop.UPower.PowerProfiles; dbusmock 0.28's
    /// template has only the legacy net.hadess name. This writes a copy of the installed template
    /// with the current name, path and interface into <paramref name="folder"/>.
    /// </summary>
    public static async Task<string> CurrentPowerProfilesTemplateAsync(string folder)
    {
        var located = await BusTools.RunAsync("/usr/bin/python3", ["-c", "import dbusmock.templates.power_profiles_daemon as m; print(m.__file__)"]);
        Assert.True(located.ExitCode == 0, located.ToString());
        var text = await File.ReadAllTextAsync(located.Output.Trim());
        Assert.Contains("BUS_NAME = 'net.hadess.PowerProfiles'", text, StringComparison.Ordinal);
        text = text.Replace("'net.hadess.PowerProfiles'", "'org.freedesktop.UPower.PowerProfiles'", StringComparison.Ordinal)
            .Replace("'/net/hadess/PowerProfiles'", "'/org/freedesktop/UPower/PowerProfiles'", StringComparison.Ordinal);
        var path = Path.Combine(folder, "power_profiles_current.py");
        await File.WriteAllTextAsync(path, text);
        return path;
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
