using Router.Actors.Config;
using Router.Actors.Routing;

namespace Router.Tests.Config;

public sealed class EnvironmentOverridesTests
{
    private static RouterConfig LoadWith(params (string Name, string Value)[] variables) =>
        ConfigLoader.LoadDefault(variables.ToDictionary(v => v.Name, v => v.Value));

    [Fact]
    public void LoadDefault_ServerPortVariable_OverridesTheFile()
    {
        var config = LoadWith(("OLLAMA_PROXY_SERVER_HTTP_PORT", "9090"), ("OLLAMA_PROXY_SERVER_GRPC_PORT", "9091"));

        Assert.Equal((9090, 9091), (config.Server.HttpPort, config.Server.GrpcPort));
    }

    [Fact]
    public void LoadDefault_DefaultModeVariable_OverridesTheFile()
    {
        var config = LoadWith(("OLLAMA_PROXY_ROUTING_DEFAULT_MODE", "efficiency"));

        Assert.Equal(EfficiencyMode.Efficiency, config.Routing.DefaultMode);
    }

    [Fact]
    public void LoadDefault_NestedRoutingVariable_SetsOnePriorityOnly()
    {
        var config = LoadWith(("OLLAMA_PROXY_ROUTING_MAX_QUEUE_WAIT_NORMAL", "5s"), ("OLLAMA_PROXY_SERVER_DRAIN_TIMEOUT", "3s"));

        Assert.Equal(TimeSpan.FromSeconds(5), config.Routing.QueueWaitFor(Priority.Normal));
        Assert.Equal(new RoutingConfig().QueueWaitFor(Priority.Critical), config.Routing.QueueWaitFor(Priority.Critical));
        Assert.Equal(TimeSpan.FromSeconds(3), config.Server.DrainTimeout);
    }

    [Fact]
    public void LoadDefault_WaitBudgetVariable_ReachesTheScorer()
    {
        var config = LoadWith(("OLLAMA_PROXY_ROUTING_WAIT_BUDGET_NORMAL", "5s"));

        var budget = Router.Actors.Routing.ScoringOptions.FromConfig(config.Routing).WaitBudget!.Value;
        Assert.Equal(TimeSpan.FromSeconds(5), budget.For(Priority.Normal));
        Assert.Equal(RoutingConfig.DefaultWaitBudget.For(Priority.Critical), budget.For(Priority.Critical));
    }

    [Theory]
    [InlineData("OLLAMA_PROXY_SERVER_MAX_REQUEST_BODY", "1MiB", "1048576")]
    [InlineData("OLLAMA_PROXY_ROUTING_AGING_INTERVAL", "2s", "00:00:02")]
    [InlineData("OLLAMA_PROXY_ROUTING_POWER_AWARE", "false", "False")]
    [InlineData("OLLAMA_PROXY_TELEMETRY_SYSFS_ROOT", "/tmp/fake-sys", "/tmp/fake-sys")]
    [InlineData("OLLAMA_PROXY_TELEMETRY_OTLP_ENDPOINT", "http://localhost:4317", "http://localhost:4317/")]
    public void LoadDefault_SectionVariable_SetsThatSetting(string name, string value, string expected)
    {
        var config = LoadWith((name, value));

        string? actual = name switch
        {
            "OLLAMA_PROXY_SERVER_MAX_REQUEST_BODY" => config.Server.MaxRequestBodyBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "OLLAMA_PROXY_ROUTING_AGING_INTERVAL" => config.Routing.AgingInterval.ToString(),
            "OLLAMA_PROXY_ROUTING_POWER_AWARE" => config.Routing.PowerAware.ToString(),
            "OLLAMA_PROXY_TELEMETRY_SYSFS_ROOT" => config.Telemetry.SysfsRoot,
            _ => config.Telemetry.OtlpEndpoint?.ToString(),
        };
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void LoadDefault_BackendEndpointVariable_ChangesOnlyThatBackend()
    {
        var config = LoadWith(("OLLAMA_PROXY_BACKENDS_OLLAMA_NPU_ENDPOINT", "http://10.0.0.5:11434"));

        Assert.Equal(
            ["ollama-npu http://10.0.0.5:11434/", "ollama-igpu http://localhost:11435/", "ollama-nvidia http://localhost:11436/", "ollama-cpu http://localhost:11437/"],
            config.Backends.Select(b => $"{b.Id} {b.Endpoint}"));
    }

    [Fact]
    public void LoadDefault_NestedBackendVariables_DoNotLeakIntoSharedDefaults()
    {
        var config = LoadWith(
            ("OLLAMA_PROXY_BACKENDS_OLLAMA_CPU_TIMEOUTS_CONNECT", "1s"),
            ("OLLAMA_PROXY_BACKENDS_OLLAMA_CPU_QUEUE_LIMITS_BEST_EFFORT", "2"),
            ("OLLAMA_PROXY_BACKENDS_OLLAMA_NVIDIA_MAX_CONCURRENT", "4"),
            ("OLLAMA_PROXY_BACKENDS_OLLAMA_IGPU_ENABLED", "false"));

        Assert.Equal(
            ["ollama-npu 00:00:05 16 1 True", "ollama-igpu 00:00:05 16 1 False", "ollama-nvidia 00:00:05 16 4 True", "ollama-cpu 00:00:01 2 1 True"],
            config.Backends.Select(b => $"{b.Id} {b.Timeouts.Connect} {b.QueueLimits[0]} {b.MaxConcurrent} {b.Enabled}"));
    }

    [Fact]
    public void LoadDefault_BadOverrideValue_ErrorNamesTheVariable()
    {
        var error = Assert.Throws<ConfigException>(() => LoadWith(("OLLAMA_PROXY_SERVER_HTTP_PORT", "http")));

        Assert.Equal("server.http-port: expected a whole number, got \"http\" (env OLLAMA_PROXY_SERVER_HTTP_PORT)", Assert.Single(error.Errors));
    }

    [Fact]
    public void LoadDefault_OverrideNamingNoBackend_IsAnError()
    {
        var error = Assert.Throws<ConfigException>(() => LoadWith(("OLLAMA_PROXY_BACKENDS_OLLAMA_GPU_ENDPOINT", "http://x:1")));

        Assert.Equal(
            "OLLAMA_PROXY_BACKENDS_OLLAMA_GPU_ENDPOINT: names no backend setting (env OLLAMA_PROXY_BACKENDS_OLLAMA_GPU_ENDPOINT); use OLLAMA_PROXY_BACKENDS_<ID>_<SETTING> with <ID> one of: OLLAMA_NPU, OLLAMA_IGPU, OLLAMA_NVIDIA, OLLAMA_CPU",
            Assert.Single(error.Errors));
    }

    [Fact]
    public void FromHoconText_OverrideOfAbsentSection_CreatesIt()
    {
        var config = ConfigLoader.FromHoconText("", "empty.conf", new Dictionary<string, string> { ["OLLAMA_PROXY_SERVER_HOST"] = "0.0.0.0", ["OLLAMA_PROXY_SERVER_INSECURE"] = "true" });

        Assert.Equal("0.0.0.0", config.Server.Host);
    }

    [Fact]
    public void LoadDefault_UnrelatedVariables_AreIgnored()
    {
        var config = LoadWith(("OLLAMA_PROXY_CONFIG", "/etc/x.conf"), ("PATH", "/bin"));

        Assert.Equal(8080, config.Server.HttpPort);
    }

    [Theory]
    [InlineData("server.http-port", "OLLAMA_PROXY_SERVER_HTTP_PORT")]
    [InlineData("routing.min-samples-for-live-metrics", "OLLAMA_PROXY_ROUTING_MIN_SAMPLES_FOR_LIVE_METRICS")]
    public void VariableFor_Path_UpperCasesWithUnderscores(string path, string expected)
    {
        Assert.Equal(expected, EnvironmentOverrides.VariableFor(path));
    }
}
