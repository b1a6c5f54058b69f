using System.Net.Http.Json;
using System.Text.Json;
using System.Xml.Linq;
using Router.Actors.Routing;
using Router.Tests.TestKit;

namespace Router.Tests.DBus.Export;

/// <summary>
/// The router on a private session bus, driven the way scripts and the GNOME extension drive it:
/// busctl and gdbus (introspection, properties, methods, every error reply) and gdbus monitor for
/// the signals.
/// </summary>
public sealed class RouterBusTests : IClassFixture<RouterOnBus>, IAsyncLifetime
{
    private static readonly string[] Objects = ["Efficiency", "Backends", "Routing", "Thermal", "SystemState"];

    private readonly RouterOnBus _router;

    public RouterBusTests(RouterOnBus router) => _router = router;

    private string Address => _router.Address;

    public Task InitializeAsync() => _router.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Introspect_EveryObject_AnswersWithItsInterfaceFromTheContractFile()
    {
        var contract = XDocument.Load(Path.Combine(ChildProcess.RepoRoot, "Router.DBus", "Interfaces", "ie.fio.OllamaProxy.xml"));
        foreach (var name in Objects)
        {
            var outcome = await BusTools.GdbusAsync("introspect", "--address", Address, "--dest", BusTools.Name, "--object-path", $"{BusTools.Root}/{name}", "--xml");
            Assert.True(outcome.ExitCode == 0, outcome.ToString());
            var answered = XDocument.Parse(outcome.Output).Root!.Elements("interface").ToDictionary(i => (string)i.Attribute("name")!);
            Assert.Equal(
                ["ie.fio.OllamaProxy." + name, "org.freedesktop.DBus.Introspectable", "org.freedesktop.DBus.Peer", "org.freedesktop.DBus.Properties"],
                answered.Keys.Order(StringComparer.Ordinal));
            var expected = contract.Root!.Elements("interface").Single(i => (string)i.Attribute("name")! == "ie.fio.OllamaProxy." + name);
            Assert.Equal(Members(expected), Members(answered["ie.fio.OllamaProxy." + name]));
        }

        var tree = await BusTools.BusctlAsync(Address, "tree", "--list", BusTools.Name);
        Assert.True(tree.ExitCode == 0, tree.ToString());
        foreach (var name in Objects)
        {
            Assert.Contains($"{BusTools.Root}/{name}\n", tree.Output, StringComparison.Ordinal);
        }

        static string[] Members(XElement @interface) =>
        [
            .. @interface.Elements().Where(e => e.Name.LocalName is "method" or "property" or "signal")
                .Select(e => $"{e.Name.LocalName} {e.Attribute("name")!.Value} {e.Attribute("type")?.Value} {e.Attribute("access")?.Value} " +
                    string.Join(",", e.Elements("arg").Select(a => $"{a.Attribute("name")?.Value}:{a.Attribute("type")!.Value}:{a.Attribute("direction")?.Value}")))
                .Order(StringComparer.Ordinal),
        ];
    }

    /// <summary>Every property of every object is sent with the type the contract declares for it.</summary>
    [Fact]
    public async Task GetAll_EveryObject_EachPropertyHasItsContractType()
    {
        var contract = XDocument.Load(Path.Combine(ChildProcess.RepoRoot, "Router.DBus", "Interfaces", "ie.fio.OllamaProxy.xml"));
        foreach (var name in Objects)
        {
            var outcome = await BusTools.BusctlAsync(Address, "--json=short", "call", BusTools.Name, $"{BusTools.Root}/{name}",
                "org.freedesktop.DBus.Properties", "GetAll", "s", "ie.fio.OllamaProxy." + name);
            Assert.True(outcome.ExitCode == 0, outcome.ToString());
            using var json = JsonDocument.Parse(outcome.Output);
            var sent = json.RootElement.GetProperty("data")[0].EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetProperty("type").GetString());
            var declared = contract.Root!.Elements("interface").Single(i => (string)i.Attribute("name")! == "ie.fio.OllamaProxy." + name)
                .Elements("property").ToDictionary(p => (string)p.Attribute("name")!, p => (string?)p.Attribute("type"));
            Assert.Equal(declared.OrderBy(p => p.Key, StringComparer.Ordinal), sent.OrderBy(p => p.Key, StringComparer.Ordinal));
        }
    }

    [Fact]
    public async Task GetAll_Efficiency_ShowsTheRoutersModesAndPeerAnswers()
    {
        var outcome = await BusTools.CallAsync(Address, "Efficiency", "org.freedesktop.DBus.Properties.GetAll", "ie.fio.OllamaProxy.Efficiency");

        Assert.True(outcome.ExitCode == 0, outcome.ToString());
        Assert.Equal(
            "({'Mode': <'balanced'>, 'EffectiveMode': <'balanced'>, 'Reason': <'user-selected'>, 'Modes': <['performance', 'balanced', 'efficiency', 'quiet', 'ultra-efficiency', 'auto']>},)",
            outcome.Output.Trim());
        var ping = await BusTools.CallAsync(Address, "Efficiency", "org.freedesktop.DBus.Peer.Ping");
        Assert.True(ping.ExitCode == 0, ping.ToString());
    }

    [Fact]
    public async Task SetMode_Quiet_ChangesTheModeEverywhereAndSignalsIt()
    {
        await using var monitor = await SignalMonitor.StartAsync(Address);

        var outcome = await BusTools.CallAsync(Address, "Efficiency", "ie.fio.OllamaProxy.Efficiency.SetMode", "quiet");

        Assert.True(outcome.ExitCode == 0, outcome.ToString());
        Assert.Equal("()", outcome.Output.Trim());
        // Read right after the call: the caller sees its own change.
        Assert.Equal("s \"quiet\"", await BusTools.GetPropertyAsync(Address, "Efficiency", "Mode"));
        Assert.Equal("s \"quiet\"", await BusTools.GetPropertyAsync(Address, "Efficiency", "EffectiveMode"));
        await monitor.WaitForAsync("Efficiency", "org.freedesktop.DBus.Properties.PropertiesChanged", "'Mode': <'quiet'>", "'EffectiveMode': <'quiet'>");
        await monitor.WaitForAsync("Efficiency", "ie.fio.OllamaProxy.Efficiency.ModeChanged", "('balanced', 'quiet', 'user-selected')");
        Assert.Equal(EfficiencyMode.Quiet, (await _router.Host.Runtime.GetSystemStateAsync(CancellationToken.None)).Mode);
        using var http = new HttpClient { BaseAddress = _router.Host.HttpEndpoint };
        Assert.Equal("quiet", (await http.GetFromJsonAsync<JsonElement>("/efficiency")).GetProperty("mode").GetString());
    }

    [Fact]
    public async Task SetProperty_ModeAuto_SignalsTheChosenModeAndTheModeInEffect()
    {
        _router.Host.Machine!.SetAcPower(false);
        _router.Host.Machine.SetBatteryPercent(15);
        _router.Host.Runtime.SampleNow();
        await Awaiting.AwaitConditionAsync(async () => await BusTools.GetPropertyAsync(Address, "SystemState", "BatteryPercent") == "d 15",
            PrivateBus.Patience, "the battery at 15 % on D-Bus");
        await using var monitor = await SignalMonitor.StartAsync(Address);

        var outcome = await BusTools.BusctlAsync(Address, "set-property", BusTools.Name, BusTools.Root + "/Efficiency", "ie.fio.OllamaProxy.Efficiency", "Mode", "s", "auto");

        Assert.True(outcome.ExitCode == 0, outcome.ToString());
        await monitor.WaitForAsync("Efficiency", "ie.fio.OllamaProxy.Efficiency.ModeChanged", "('balanced', 'auto', 'battery 15% < 20%: ultra-efficiency')");
        await monitor.WaitForAsync("Efficiency", "ie.fio.OllamaProxy.Efficiency.ModeChanged", "('balanced', 'ultra-efficiency', 'battery 15% < 20%: ultra-efficiency')");
        Assert.Equal("s \"ultra-efficiency\"", await BusTools.GetPropertyAsync(Address, "Efficiency", "EffectiveMode"));
        Assert.Equal("s \"battery 15% < 20%: ultra-efficiency\"", await BusTools.GetPropertyAsync(Address, "Efficiency", "Reason"));
    }

    /// <summary>Every bad call gets its own error, with a message that says what to do; nothing changes and nothing breaks.</summary>
    [Theory]
    [InlineData("Efficiency", "ie.fio.OllamaProxy.Efficiency.SetMode", "turbo",
        "ie.fio.OllamaProxy.Error.UnknownMode: 'turbo' is not an efficiency mode; use one of performance, balanced, efficiency, quiet, ultra-efficiency, auto")]
    [InlineData("Efficiency", "ie.fio.OllamaProxy.Efficiency.SetMode", "",
        "org.freedesktop.DBus.Error.InvalidArgs: SetMode takes (s), not ()")]
    [InlineData("Efficiency", "ie.fio.OllamaProxy.Efficiency.GetModeInfo", "warp",
        "ie.fio.OllamaProxy.Error.UnknownMode: 'warp' is not an efficiency mode; use one of performance, balanced, efficiency, quiet, ultra-efficiency, auto")]
    [InlineData("Efficiency", "ie.fio.OllamaProxy.Efficiency.Boost", "",
        "org.freedesktop.DBus.Error.UnknownMethod: ie.fio.OllamaProxy.Efficiency has no method 'Boost'")]
    [InlineData("Efficiency", "org.freedesktop.DBus.Properties.Get", "ie.fio.OllamaProxy.Efficiency|Speed",
        "org.freedesktop.DBus.Error.UnknownProperty: ie.fio.OllamaProxy.Efficiency has no property 'Speed'")]
    [InlineData("Efficiency", "org.freedesktop.DBus.Properties.Set", "ie.fio.OllamaProxy.Efficiency|EffectiveMode|<'quiet'>",
        "org.freedesktop.DBus.Error.PropertyReadOnly: property EffectiveMode of ie.fio.OllamaProxy.Efficiency is read-only")]
    [InlineData("Efficiency", "org.freedesktop.DBus.Properties.Set", "ie.fio.OllamaProxy.Efficiency|Mode|<3>",
        "org.freedesktop.DBus.Error.InvalidArgs: property Mode is of type s, not i")]
    [InlineData("Efficiency", "org.freedesktop.DBus.Properties.Set", "ie.fio.OllamaProxy.Efficiency|Mode|<'warp'>",
        "ie.fio.OllamaProxy.Error.UnknownMode: 'warp' is not an efficiency mode; use one of performance, balanced, efficiency, quiet, ultra-efficiency, auto")]
    [InlineData("Efficiency", "org.freedesktop.DBus.Properties.Get", "ie.fio.OllamaProxy.Backends|Count",
        "org.freedesktop.DBus.Error.UnknownInterface: object /ie/fio/OllamaProxy/Efficiency has no interface 'ie.fio.OllamaProxy.Backends'")]
    [InlineData("Backends", "ie.fio.OllamaProxy.Backends.GetBackend", "ollama-tpu",
        "ie.fio.OllamaProxy.Error.UnknownBackend: no backend 'ollama-tpu'; the backends are ollama-npu, ollama-igpu, ollama-nvidia, ollama-cpu")]
    [InlineData("Routing", "ie.fio.OllamaProxy.Routing.Explain", "{'colour': <'red'>}",
        "ie.fio.OllamaProxy.Error.InvalidHint: hint 'colour' is not a hint; the hints are model, target, latency_critical, power_efficient, max_latency_ms, max_power_watts, priority")]
    [InlineData("Routing", "ie.fio.OllamaProxy.Routing.Explain", "{'priority': <'urgent'>}",
        "ie.fio.OllamaProxy.Error.InvalidHint: hint 'priority' must be one of best-effort, normal, high, critical, not 'urgent'")]
    [InlineData("Routing", "ie.fio.OllamaProxy.Routing.Explain", "{'max_power_watts': <'lots'>}",
        "ie.fio.OllamaProxy.Error.InvalidHint: hint 'max_power_watts' must be a number of watts (d)")]
    [InlineData("Routing", "ie.fio.OllamaProxy.Routing.Explain", "{'model': <'no-such-model:7b'>}",
        "ie.fio.OllamaProxy.Error.NoRoute: ")]
    [InlineData("Routing", "org.freedesktop.DBus.Properties.Set", "ie.fio.OllamaProxy.Routing|TotalRequests|<@t 5>",
        "org.freedesktop.DBus.Error.PropertyReadOnly: property TotalRequests of ie.fio.OllamaProxy.Routing is read-only")]
    public async Task BadCall_GetsItsErrorAndChangesNothing(string objectName, string method, string args, string expected)
    {
        var outcome = await BusTools.CallAsync(Address, objectName, method, args.Length == 0 ? [] : args.Split('|'));

        Assert.NotEqual(0, outcome.ExitCode);
        Assert.Contains("GDBus.Error:" + expected, outcome.Errors, StringComparison.Ordinal);
        Assert.Equal("s \"balanced\"", await BusTools.GetPropertyAsync(Address, "Efficiency", "Mode"));
        Assert.Equal(EfficiencyMode.Balanced, (await _router.Host.Runtime.GetSystemStateAsync(CancellationToken.None)).Mode);
        var ping = await BusTools.CallAsync(Address, "Efficiency", "org.freedesktop.DBus.Peer.Ping");
        Assert.True(ping.ExitCode == 0, ping.ToString());
    }

    /// <summary>dbus-send, unlike gdbus, sends exactly the types it is given: a call with the wrong signature.</summary>
    [Theory]
    [InlineData("Efficiency", "ie.fio.OllamaProxy.Efficiency.SetMode", "int32:3", "org.freedesktop.DBus.Error.InvalidArgs: SetMode takes (s), not (i)")]
    [InlineData("Backends", "ie.fio.OllamaProxy.Backends.GetBackend", "uint32:1", "org.freedesktop.DBus.Error.InvalidArgs: GetBackend takes (s), not (u)")]
    [InlineData("Routing", "ie.fio.OllamaProxy.Routing.Explain", "string:model", "org.freedesktop.DBus.Error.InvalidArgs: Explain takes (a{sv}), not (s)")]
    [InlineData("Efficiency", "org.freedesktop.DBus.Properties.Get", "string:ie.fio.OllamaProxy.Efficiency", "org.freedesktop.DBus.Error.InvalidArgs: Get takes (ss), not (s)")]
    public async Task WrongSignature_InvalidArgsAndNothingChanges(string objectName, string method, string arg, string expected)
    {
        var outcome = await BusTools.RunAsync("dbus-send", ["--bus=" + Address, "--print-reply", "--dest=" + BusTools.Name, $"{BusTools.Root}/{objectName}", method, arg]);

        Assert.NotEqual(0, outcome.ExitCode);
        Assert.Contains("Error " + expected, outcome.Errors, StringComparison.Ordinal);
        Assert.Equal("s \"balanced\"", await BusTools.GetPropertyAsync(Address, "Efficiency", "Mode"));
    }

    [Fact]
    public async Task ListBackends_OneRowPerBackendInConfigurationOrder()
    {
        var outcome = await BusTools.BusctlAsync(Address, "--json=short", "call", BusTools.Name, BusTools.Root + "/Backends", "ie.fio.OllamaProxy.Backends", "ListBackends");

        Assert.True(outcome.ExitCode == 0, outcome.ToString());
        using var json = JsonDocument.Parse(outcome.Output);
        var rows = json.RootElement.GetProperty("data")[0].EnumerateArray().ToArray();
        Assert.Equal(["ollama-npu", "ollama-igpu", "ollama-nvidia", "ollama-cpu"], rows.Select(r => r[0].GetString()));
        var npu = rows[0];
        Assert.Equal("Ollama on NPU", npu[1].GetString());
        Assert.Equal("ollama", npu[2].GetString());
        Assert.Equal("npu", npu[3].GetString());
        Assert.Equal("healthy", npu[4].GetString());
        Assert.Equal(3, npu[5].GetDouble());
        Assert.True(npu[6].GetDouble() > 0);
        Assert.Equal("u 4", await BusTools.GetPropertyAsync(Address, "Backends", "Count"));
        Assert.Equal("u 4", await BusTools.GetPropertyAsync(Address, "Backends", "HealthyCount"));

        var one = await BusTools.CallAsync(Address, "Backends", "ie.fio.OllamaProxy.Backends.GetBackend", "ollama-nvidia");
        Assert.True(one.ExitCode == 0, one.ToString());
        foreach (var field in new[] { "'id': <'ollama-nvidia'>", "'hardware': <'nvidia'>", "'health': <'healthy'>", "'power_watts': <55.0>",
            "'endpoint': <'http://127.0.0.1:", "'models': <['llama3.2:1b', ", "'max_concurrent': <uint32 ", "'requests_total': <uint64 " })
        {
            Assert.Contains(field, one.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task FleetBackends_ListedWithTheirNodeAndGoneWhenTheNodeIs()
    {
        var publisher = Akka.Hosting.ActorRegistry.For(_router.Host.Runtime.System).Get<Router.Actors.Routing.RoutingTablePublisher>();
        var desktop = new Router.Actors.Routing.BackendSnapshot
        {
            Id = "desktop/ollama-nvidia", Name = "Ollama on the desktop's GPU", Hardware = "nvidia", Health = Router.Actors.Routing.BackendHealth.Healthy,
            PowerWatts = 55, AvgLatencyMs = 150, Node = "desktop", NetworkRoundTripMs = 0.8, Version = 1,
        };
        await using var monitor = await SignalMonitor.StartAsync(Address);
        try
        {
            // What the fleet tells the routing table when another node publishes its backends.
            publisher.Tell(new Router.Actors.Routing.RemoteBackendsChanged([desktop]), Akka.Actor.ActorRefs.NoSender);
            await monitor.WaitForAsync("Backends", "org.freedesktop.DBus.Properties.PropertiesChanged", "'Count': <uint32 5>");

            var list = await BusTools.BusctlAsync(Address, "--json=short", "call", BusTools.Name, BusTools.Root + "/Backends", "ie.fio.OllamaProxy.Backends", "ListBackends");
            using var json = JsonDocument.Parse(list.Output);
            var row = json.RootElement.GetProperty("data")[0].EnumerateArray().Last();
            Assert.Equal("desktop/ollama-nvidia", row[0].GetString());
            Assert.Equal(150.8, row[6].GetDouble(), 3); // its latency with the round trip to its node
            var one = await BusTools.CallAsync(Address, "Backends", "ie.fio.OllamaProxy.Backends.GetBackend", "desktop/ollama-nvidia");
            Assert.True(one.ExitCode == 0, one.ToString());
            Assert.Contains("'node': <'desktop'>", one.Output, StringComparison.Ordinal);
        }
        finally
        {
            publisher.Tell(new Router.Actors.Routing.RemoteBackendsChanged([]), Akka.Actor.ActorRefs.NoSender);
            await monitor.WaitForAsync("Backends", "org.freedesktop.DBus.Properties.PropertiesChanged", "'Count': <uint32 4>");
        }
    }

    [Fact]
    public async Task BackendGoesDown_SignalsItsHealthAndTheCount()
    {
        await using var monitor = await SignalMonitor.StartAsync(Address);
        var nvidia = _router.Host.Simulators.Single(s => s.Profile.Hardware == "nvidia");
        try
        {
            await nvidia.RefuseConnectionsAsync();
            _router.Host.Runtime.GetBackendActor("ollama-nvidia")!.Tell(Router.Actors.Backends.ProbeNow.Instance, Akka.Actor.ActorRefs.NoSender);

            await monitor.WaitForAsync("Backends", "ie.fio.OllamaProxy.Backends.BackendHealthChanged", "('ollama-nvidia', 'unhealthy', ");
            await monitor.WaitForAsync("Backends", "org.freedesktop.DBus.Properties.PropertiesChanged", "'HealthyCount': <uint32 3>");
        }
        finally
        {
            await nvidia.AcceptConnectionsAsync();
            _router.Host.Runtime.GetBackendActor("ollama-nvidia")!.Tell(Router.Actors.Backends.ProbeNow.Instance, Akka.Actor.ActorRefs.NoSender);
        }

        await monitor.WaitForAsync("Backends", "ie.fio.OllamaProxy.Backends.BackendHealthChanged", "('ollama-nvidia', 'healthy', ");
        await _router.WaitForHealthyAsync();
    }

    [Fact]
    public async Task Explain_AnswersWhatHttpExplainAnswers()
    {
        using var http = new HttpClient { BaseAddress = _router.Host.HttpEndpoint };
        var expected = await http.GetFromJsonAsync<JsonElement>("/explain?model=llama3.2:1b&latency_critical=true");

        var outcome = await BusTools.CallAsync(Address, "Routing", "ie.fio.OllamaProxy.Routing.Explain",
            "{'model': <'llama3.2:1b'>, 'latency_critical': <true>, 'max_latency_ms': <uint32 5000>}");

        Assert.True(outcome.ExitCode == 0, outcome.ToString());
        Assert.Contains($"'backend': <'{expected.GetProperty("backend").GetString()}'>", outcome.Output, StringComparison.Ordinal);
        Assert.Contains($"'reason': <'{expected.GetProperty("reason").GetString()}'>", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("'effective_mode': <'balanced'>", outcome.Output, StringComparison.Ordinal);
        var alternatives = string.Join(", ", expected.GetProperty("alternatives").EnumerateArray().Select(a => $"'{a.GetString()}'"));
        Assert.Contains($"'alternatives': <[{alternatives}]>", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("'estimated_latency_ms': <", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("'estimated_energy_wh': <", outcome.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RoutedRequest_CountedAndSignalledOnceTheSignalIsOn()
    {
        await using var monitor = await SignalMonitor.StartAsync(Address);
        Assert.Equal("b false", await BusTools.GetPropertyAsync(Address, "Routing", "RequestRoutedSignal"));
        var on = await BusTools.BusctlAsync(Address, "set-property", BusTools.Name, BusTools.Root + "/Routing", "ie.fio.OllamaProxy.Routing", "RequestRoutedSignal", "b", "true");
        Assert.True(on.ExitCode == 0, on.ToString());
        await monitor.WaitForAsync("Routing", "org.freedesktop.DBus.Properties.PropertiesChanged", "'RequestRoutedSignal': <true>");
        try
        {
            using var http = new HttpClient { BaseAddress = _router.Host.HttpEndpoint };
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/generate")
            {
                Content = JsonContent.Create(new { model = "llama3.2:1b", prompt = "hi", stream = false, options = new { num_predict = 2 } }),
            };
            request.Headers.Add("X-Request-ID", "dbus-test-1");
            request.Headers.Add("X-Target-Backend", "ollama-igpu");
            using var response = await http.SendAsync(request);
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());

            await monitor.WaitForAsync("Routing", "ie.fio.OllamaProxy.Routing.RequestRouted", "('dbus-test-1', 'ollama-igpu', 'explicit-target')");
            var changed = await monitor.WaitForAsync("Routing", "org.freedesktop.DBus.Properties.PropertiesChanged", "'TotalRequests': <uint64 ");
            Assert.Contains("'LastBackend': <'ollama-igpu'>", changed, StringComparison.Ordinal);
            var stats = await BusTools.CallAsync(Address, "Routing", "ie.fio.OllamaProxy.Routing.GetStats");
            Assert.True(stats.ExitCode == 0, stats.ToString());
            Assert.Matches(@"'requests': <uint64 [1-9]\d*>", stats.Output);
            Assert.Matches(@"'requests_by_backend': <\{.*'ollama-igpu': uint64 [1-9]", stats.Output);
            Assert.Contains("'failures': <uint64 0>", stats.Output, StringComparison.Ordinal);
        }
        finally
        {
            await BusTools.BusctlAsync(Address, "set-property", BusTools.Name, BusTools.Root + "/Routing", "ie.fio.OllamaProxy.Routing", "RequestRoutedSignal", "b", "false");
        }
    }

    [Fact]
    public async Task HotDeviceAndThrottling_SignalledAndShownOnThermal()
    {
        await using var monitor = await SignalMonitor.StartAsync(Address);
        var machine = _router.Host.Machine!;

        machine.SetTemperature("ollama-nvidia", 90);
        machine.SetThrottling(true);
        _router.Host.Runtime.SampleNow();

        await monitor.WaitForAsync("Thermal", "ie.fio.OllamaProxy.Thermal.ThermalWarning", "('ollama-nvidia', 90.0)");
        await monitor.WaitForAsync("Thermal", "ie.fio.OllamaProxy.Thermal.ThrottlingStarted", "('cpu',)");
        // Every simulated device has a temperature; the NVIDIA GPU's is the one held at 90.
        var temperatures = await BusTools.GetPropertyAsync(Address, "Thermal", "Temperatures");
        Assert.StartsWith("a{sd} 4 ", temperatures, StringComparison.Ordinal);
        Assert.Contains("\"ollama-nvidia\" 90", temperatures, StringComparison.Ordinal);
        Assert.Equal("as 1 \"ollama-nvidia\"", await BusTools.GetPropertyAsync(Address, "Thermal", "HotDevices"));
        Assert.Equal("b true", await BusTools.GetPropertyAsync(Address, "Thermal", "Throttling"));

        machine.SetThrottling(false);
        _router.Host.Runtime.SampleNow();
        await monitor.WaitForAsync("Thermal", "ie.fio.OllamaProxy.Thermal.ThrottlingStopped", "('cpu',)");
    }

    [Fact]
    public async Task OnBattery_SystemStateShowsItWithSignals()
    {
        await using var monitor = await SignalMonitor.StartAsync(Address);
        Assert.Equal("b false", await BusTools.GetPropertyAsync(Address, "SystemState", "OnBattery"));

        _router.Host.Machine!.SetAcPower(false);
        _router.Host.Machine.SetBatteryPercent(64);
        _router.Host.Runtime.SampleNow();

        await monitor.WaitForAsync("SystemState", "ie.fio.OllamaProxy.SystemState.PowerSourceChanged", "(true,)");
        await monitor.WaitForAsync("SystemState", "ie.fio.OllamaProxy.SystemState.BatteryLevelChanged", "(64.0,)");
        Assert.Equal("b true", await BusTools.GetPropertyAsync(Address, "SystemState", "OnBattery"));
        Assert.Equal("d 64", await BusTools.GetPropertyAsync(Address, "SystemState", "BatteryPercent"));
        // The simulated laptop has no power-profiles-daemon; its battery says how long it lasts at
        // the present draw (38.4 Wh left at about 22 W idle: hours, in seconds).
        Assert.Equal("s \"\"", await BusTools.GetPropertyAsync(Address, "SystemState", "PowerProfile"));
        var timeToEmpty = await BusTools.GetPropertyAsync(Address, "SystemState", "TimeToEmpty");
        Assert.StartsWith("x ", timeToEmpty, StringComparison.Ordinal);
        Assert.InRange(long.Parse(timeToEmpty[2..], System.Globalization.CultureInfo.InvariantCulture), 3600, 6 * 3600);
    }
}
