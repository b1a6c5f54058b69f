using Router.Actors.Config;
using Router.Actors.Routing;

namespace Router.Tests.Config;

public sealed class LegacyYamlTests
{
    /// <summary>Shaped like the old Go router's config/config.yaml, sections it had and we ignore included.</summary>
    private const string OldRouterConfig = """
        # Ollama Compute Proxy Configuration
        server:
          grpc_port: 50052
          http_port: 8081
          host: "0.0.0.0"
          auth:
            enabled: false
          rate_limit:
            enabled: false
            rate: 10.0

        router:
          power_aware: true
          auto_optimize: false

        backends:
          - id: "ollama-npu"
            type: "ollama"
            name: "Ollama NPU"
            hardware: "npu"
            enabled: true
            endpoint: "http://localhost:11434"
            characteristics:
              power_watts: 3.0
              avg_latency_ms: 800
              max_tokens_per_second: 10
              priority: 1
            model_capability:
              max_model_size_gb: 2
              supported_model_patterns:
                - "*:0.5b"

          - id: "ollama-nvidia"
            type: "ollama"
            name: "Ollama NVIDIA RTX 4060"
            hardware: "nvidia"
            enabled: false
            endpoint: "http://localhost:11436"
            characteristics:
              power_watts: 55.0
              avg_latency_ms: 150
              priority: 10

        routing:
          default_backend: "ollama-npu"
          power_aware: false
          auto_optimize_latency: false

        thermal:
          enabled: true
          temperature:
            warning: 70.0
        """;

    private static readonly Dictionary<string, string> NoEnvironment = [];

    /// <summary>The old router listened on every network with no keys; today that must be said out loud.</summary>
    private static readonly Dictionary<string, string> TrustedNetwork = new() { ["OLLAMA_PROXY_SERVER_INSECURE"] = "true" };

    [Fact]
    public void FromLegacyYamlText_OldRouterFile_ReadsServerRoutingAndBackends()
    {
        var config = ConfigLoader.FromLegacyYamlText(OldRouterConfig, "config.yaml", TrustedNetwork);

        Assert.Equal(("0.0.0.0", 8081, 50052), (config.Server.Host, config.Server.HttpPort, config.Server.GrpcPort));
        Assert.Equal((false, false, EfficiencyMode.Balanced), (config.Routing.PowerAware, config.Routing.AutoOptimize, config.Routing.DefaultMode));
        Assert.Equal(
            [
                "ollama-npu ollama Ollama NPU npu True http://localhost:11434/ 3 800 1",
                "ollama-nvidia ollama Ollama NVIDIA RTX 4060 nvidia False http://localhost:11436/ 55 150 10",
            ],
            config.Backends.Select(b => $"{b.Id} {b.Type} {b.Name} {b.Hardware} {b.Enabled} {b.Endpoint} {b.PowerWatts} {b.AvgLatencyMs} {b.Priority}"));
    }

    [Fact]
    public void FromLegacyYamlText_MissingNewSettings_KeepModelDefaults()
    {
        var config = ConfigLoader.FromLegacyYamlText(OldRouterConfig, "config.yaml", TrustedNetwork);

        var backend = config.Backends[0];
        Assert.Equal((1, 16), (backend.MaxConcurrent, backend.QueueLimits[0]));
        Assert.Equal(new HealthCheckConfig(), backend.Health);
    }

    [Theory]
    [InlineData("router:\n  auto_optimize: true\n")]
    [InlineData("routing:\n  auto_optimize_latency: true\n")]
    [InlineData("router:\n  auto_optimize: true\nrouting:\n  auto_optimize_latency: false\n")]
    public void FromLegacyYamlText_AutoOptimize_StartsInAuto(string yaml)
    {
        var config = ConfigLoader.FromLegacyYamlText(yaml, "config.yaml", NoEnvironment);

        Assert.Equal((true, EfficiencyMode.Auto), (config.Routing.AutoOptimize, config.Routing.DefaultMode));
    }

    [Theory]
    [InlineData(
        "backends:\n  - id: a\n    endpoint: \"http://localhost:1\"\n    characteristics:\n      power_watts: abc\n",
        "backends[0].power-watts: expected a number, got \"abc\" (config.yaml:5)")]
    [InlineData(
        "server:\n  http_port: 123456\n",
        "server.http-port: 123456 is out of range (config.yaml:2); use a port from 1 to 65535, or 0 to let the system pick one")]
    [InlineData(
        "backends:\n  - id: a\n    endpoint: \"http://localhost:1\"\n  - id: b\n",
        "backends[1]: missing required setting \"endpoint\" (config.yaml:4); add endpoint = \"http://localhost:11434\"")]
    [InlineData(
        "backends:\n  - id: a\n    endpoint: localhost\n",
        "backends[0].endpoint: expected an absolute http:// or https:// URL, got \"localhost\" (config.yaml:3); write it like \"http://localhost:11434\"")]
    [InlineData(
        "backends:\n  - id: a\n    endpoint: \"http://localhost:1\"\n  - id: a\n    endpoint: \"http://localhost:2\"\n",
        "backends[1].id: duplicate backend id \"a\", already used by backends[0] (config.yaml:4); give every backend its own id")]
    [InlineData(
        "efficiency:\n  default_mode: \"Turbo\"\n",
        "routing.default-mode: unknown mode \"Turbo\" (config.yaml:2); valid modes: performance, balanced, efficiency, quiet, ultra-efficiency, auto")]
    [InlineData(
        "backends:\n  id: a\n",
        "backends: expected a list of backends, got an object (config.yaml:2); write each backend as an item starting with '- id: ...'")]
    [InlineData(
        "server: 8080\n",
        "server: expected an object, got 8080 (config.yaml:1); write server { ... }")]
    public void FromLegacyYamlText_InvalidSetting_ErrorHasLine(string yaml, string expected)
    {
        var error = Assert.Throws<ConfigException>(() => ConfigLoader.FromLegacyYamlText(yaml, "config.yaml", NoEnvironment));

        Assert.Equal(expected, Assert.Single(error.Errors));
    }

    [Fact]
    public void FromLegacyYamlText_BrokenYaml_ErrorHasLine()
    {
        var error = Assert.Throws<ConfigException>(() => ConfigLoader.FromLegacyYamlText("server:\n  http_port: 1\n   host: [unclosed\n", "config.yaml", NoEnvironment));

        var message = Assert.Single(error.Errors);
        Assert.StartsWith("invalid YAML: ", message, StringComparison.Ordinal);
        Assert.Contains("(config.yaml:3)", message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromLegacyYamlText_EfficiencyDefaultMode_IsRead()
    {
        var config = ConfigLoader.FromLegacyYamlText("efficiency:\n  default_mode: \"UltraEfficiency\"\n", "config.yaml", NoEnvironment);

        Assert.Equal(EfficiencyMode.UltraEfficiency, config.Routing.DefaultMode);
    }

    [Fact]
    public void FromLegacyYamlText_ApiKeyEnv_ReadsTheVariable()
    {
        var yaml = "backends:\n  - id: cloud\n    type: openai\n    endpoint: \"https://api.example\"\n    api_key_env: \"MY_KEY\"\n";

        var config = ConfigLoader.FromLegacyYamlText(yaml, "config.yaml", new Dictionary<string, string> { ["MY_KEY"] = "sk-1" });

        Assert.Equal(("openai", "sk-1"), (config.Backends[0].Type, config.Backends[0].ApiKey));
    }

    [Fact]
    public void FromLegacyYamlText_EnvironmentOverrides_ApplyToo()
    {
        var config = ConfigLoader.FromLegacyYamlText(OldRouterConfig, "config.yaml", new Dictionary<string, string>
        {
            ["OLLAMA_PROXY_SERVER_HTTP_PORT"] = "9999",
            ["OLLAMA_PROXY_BACKENDS_OLLAMA_NVIDIA_ENABLED"] = "true",
            ["OLLAMA_PROXY_SERVER_INSECURE"] = "true",
        });

        Assert.Equal((9999, true), (config.Server.HttpPort, config.Backends[1].Enabled));
    }

    [Fact]
    public void FromLegacyYamlText_OldRouterFileWithoutKeys_RefusedNamingTheLine()
    {
        var error = Assert.Throws<ConfigException>(() => ConfigLoader.FromLegacyYamlText(OldRouterConfig, "config.yaml", NoEnvironment));

        Assert.Contains("server.api-keys", error.Message, StringComparison.Ordinal);
        Assert.Contains("config.yaml:", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("old.yaml")]
    [InlineData("old.yml")]
    public void Load_YamlExtension_ReadsTheLegacyFormat(string fileName)
    {
        using var dir = new HoconTesting.TempDirectory();
        var path = dir.Write(fileName, OldRouterConfig);

        var config = ConfigLoader.Load(path, TrustedNetwork);

        Assert.Equal(["ollama-npu", "ollama-nvidia"], config.Backends.Select(b => b.Id));
    }

    [Fact]
    public void FromLegacyYamlText_EmptyFile_GivesDefaults()
    {
        var config = ConfigLoader.FromLegacyYamlText("", "config.yaml", NoEnvironment);

        Assert.Equal((8080, 0), (config.Server.HttpPort, config.Backends.Length));
    }
}
