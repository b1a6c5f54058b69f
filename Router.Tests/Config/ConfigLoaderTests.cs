using Router.Actors.Config;
using Router.Actors.Routing;

namespace Router.Tests.Config;

public sealed class ConfigLoaderTests
{
    private static readonly Dictionary<string, string> NoEnvironment = [];

    public static TheoryData<string, string, string, string, double, double, int> DefaultBackends => new()
    {
        { "ollama-npu", "npu", "http://localhost:11434/", "Ollama on NPU", 3, 800, 1 },
        { "ollama-igpu", "igpu", "http://localhost:11435/", "Ollama on integrated GPU", 12, 350, 2 },
        { "ollama-nvidia", "nvidia", "http://localhost:11436/", "Ollama on NVIDIA GPU", 55, 150, 3 },
        { "ollama-cpu", "cpu", "http://localhost:11437/", "Ollama on CPU", 28, 1200, 0 },
    };

    [Theory]
    [MemberData(nameof(DefaultBackends))]
    public void LoadDefault_RouterConf_HasTheFourDefaultBackends(string id, string hardware, string endpoint, string name, double watts, double latencyMs, int priority)
    {
        var config = ConfigLoader.LoadDefault(NoEnvironment);

        var backend = Assert.Single(config.Backends, b => b.Id == id);
        Assert.Equal((hardware, endpoint, name, watts, latencyMs, priority), (backend.Hardware, backend.Endpoint.ToString(), backend.Name, backend.PowerWatts, backend.AvgLatencyMs, backend.Priority));
        Assert.Equal(("ollama", true, 1), (backend.Type, backend.Enabled, backend.MaxConcurrent));
        Assert.Equal([16, 64, 64, 64], backend.QueueLimits.ToArray());
        Assert.Equal(new BackendTimeouts { Connect = TimeSpan.FromSeconds(5), FirstByte = TimeSpan.FromSeconds(120), Idle = TimeSpan.FromSeconds(60) }, backend.Timeouts);
        Assert.Equal(new HealthCheckConfig(), backend.Health);
    }

    [Fact]
    public void LoadDefault_RouterConf_ServerRoutingAndTelemetryMatchTheModelDefaults()
    {
        var config = ConfigLoader.LoadDefault(NoEnvironment);

        Assert.Equal(["ollama-npu", "ollama-igpu", "ollama-nvidia", "ollama-cpu"], config.Backends.Select(b => b.Id));
        Assert.Equal(new ServerConfig(), config.Server);
        Assert.Equal(new RoutingConfig(), config.Routing);
        Assert.Equal(new TelemetryConfig(), config.Telemetry);
        Assert.Equal(("127.0.0.1", 8080, 50051), (config.Server.Host, config.Server.HttpPort, config.Server.GrpcPort));
        Assert.Equal(EfficiencyMode.Balanced, config.Routing.DefaultMode);
    }

    [Fact]
    public void LoadDefault_RouterConf_BackendSensorsMergeOverDefaults()
    {
        var config = ConfigLoader.LoadDefault(NoEnvironment);

        var nvidia = config.Backends.Single(b => b.Id == "ollama-nvidia").Sensors;
        var cpu = config.Backends.Single(b => b.Id == "ollama-cpu").Sensors;
        var npu = config.Backends.Single(b => b.Id == "ollama-npu").Sensors;
        Assert.Equal(("nvidia-smi", 80.0, 95.0), (nvidia.Power, nvidia.HotC, nvidia.LimitC));
        Assert.Equal(["x86_pkg_temp", "coretemp"], cpu.Temperature.ToArray());
        Assert.Equal(("package-0", 80.0, 95.0), (cpu.Power, cpu.HotC, cpu.LimitC));
        Assert.Equal((null, 0), (npu.Power, npu.Temperature.Length));
    }

    [Fact]
    public void LoadDefault_HostVariable_ExposesTheRouter()
    {
        var config = ConfigLoader.LoadDefault(new Dictionary<string, string> { ["OLLAMA_PROXY_HOST"] = "0.0.0.0", ["OLLAMA_PROXY_SERVER_INSECURE"] = "true" });

        Assert.Equal("0.0.0.0", config.Server.Host);
    }

    [Fact]
    public void BuiltInDefault_IsTheRepositoryRouterConf()
    {
        var file = FindRepositoryFile(Path.Combine("hocon", "router.conf"));

        Assert.Equal(DefaultConfig.Text, File.ReadAllText(file));
    }

    [Fact]
    public void FromHoconText_BuiltInDefault_LoadsTheSameBackendsAsTheFile()
    {
        var fromText = ConfigLoader.FromHoconText(DefaultConfig.Text, "router.conf", NoEnvironment);
        var fromFile = ConfigLoader.LoadDefault(NoEnvironment);

        Assert.Equal(fromFile.Backends.Select(Describe), fromText.Backends.Select(Describe));
    }

    [Fact]
    public void Load_NullPath_LoadsTheDefault()
    {
        var config = ConfigLoader.Load(null, NoEnvironment);

        Assert.Equal(4, config.Backends.Length);
    }

    [Fact]
    public void Load_MissingFile_SaysWhichFile()
    {
        var error = Assert.Throws<ConfigException>(() => ConfigLoader.Load("/nonexistent/router.conf", NoEnvironment));

        Assert.Equal("Invalid configuration: configuration file /nonexistent/router.conf not found; check the path given to --config", error.Message);
    }

    [Fact]
    public void Load_ConfFile_OriginsNameTheFile()
    {
        using var dir = new HoconTesting.TempDirectory();
        var path = dir.Write("mine.conf", "server {\n  http-port = nope\n}");

        var error = Assert.Throws<ConfigException>(() => ConfigLoader.Load(path, NoEnvironment));

        Assert.Equal("server.http-port: expected a whole number, got \"nope\" (mine.conf:2)", Assert.Single(error.Errors));
    }

    [Fact]
    public void FromHoconText_DisabledBackend_IsKeptDisabled()
    {
        var config = ConfigLoader.FromHoconText("""
            backends = [
              { id = on, endpoint = "http://localhost:1" }
              { id = off, endpoint = "http://localhost:2", enabled = false }
            ]
            """, "test.conf", NoEnvironment);

        Assert.Equal([("on", true), ("off", false)], config.Backends.Select(b => (b.Id, b.Enabled)));
    }

    [Fact]
    public void FromHoconText_PartialFile_KeepsModelDefaultsForTheRest()
    {
        var config = ConfigLoader.FromHoconText("server.http-port = 1234", "test.conf", NoEnvironment);

        Assert.Equal(new ServerConfig { HttpPort = 1234 }, config.Server);
        Assert.Equal(new RoutingConfig(), config.Routing);
        Assert.Empty(config.Backends);
    }

    [Theory]
    [InlineData("auto", EfficiencyMode.Auto)]
    [InlineData("performance", EfficiencyMode.Performance)]
    [InlineData("balanced", EfficiencyMode.Balanced)]
    [InlineData("efficiency", EfficiencyMode.Efficiency)]
    [InlineData("quiet", EfficiencyMode.Quiet)]
    [InlineData("ultra-efficiency", EfficiencyMode.UltraEfficiency)]
    [InlineData("\"UltraEfficiency\"", EfficiencyMode.UltraEfficiency)]
    public void FromHoconText_DefaultMode_ParsesEveryMode(string text, EfficiencyMode expected)
    {
        var config = ConfigLoader.FromHoconText("routing.default-mode = " + text, "test.conf", NoEnvironment);

        Assert.Equal(expected, config.Routing.DefaultMode);
    }

    [Fact]
    public void FromHoconText_AutoOptimize_StartsInAuto()
    {
        var config = ConfigLoader.FromHoconText("routing { default-mode = quiet, auto-optimize = true }", "test.conf", NoEnvironment);

        Assert.Equal((true, EfficiencyMode.Auto), (config.Routing.AutoOptimize, config.Routing.DefaultMode));
    }

    private static string Describe(BackendConfig b) =>
        $"{b.Id} {b.Type} {b.Name} {b.Hardware} {b.Endpoint} {b.PowerWatts} {b.AvgLatencyMs} {b.Priority} {b.MaxConcurrent} "
        + $"{string.Join(',', b.QueueLimits)} {b.Timeouts} {b.Health} {b.Sensors.Power} {string.Join(',', b.Sensors.Temperature)}";

    private static string FindRepositoryFile(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, relative);
            if (File.Exists(candidate) && File.Exists(Path.Combine(dir.FullName, "OllamaProxy.sln")))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException("repository file not found above the test output", relative);
    }
}
