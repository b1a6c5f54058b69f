using Router.Actors.Config;

namespace Router.Tests.Config;

public sealed class ConfigBinderTests
{
    private const string ValidBackend = "{ id = ok, endpoint = \"http://localhost:1\" }";

    [Theory]
    [InlineData(
        "backends = [\n  { id = a, endpoint = \"http://localhost:1\" }\n  { id = b, endpoint = \"http://localhost:2\" }\n  { id = c, endpoint = \"http://localhost:3\"\n    power-watts = \"abc\" }\n]",
        "backends[2].power-watts: expected a number, got \"abc\" (test.conf:5)")]
    [InlineData(
        "routing {\n  default-mode = fast\n}",
        "routing.default-mode: unknown mode \"fast\" (test.conf:2); valid modes: performance, balanced, efficiency, quiet, ultra-efficiency, auto")]
    [InlineData(
        "backends = [\n  { id = twin, endpoint = \"http://localhost:1\" }\n  { id = twin, endpoint = \"http://localhost:2\" }\n]",
        "backends[1].id: duplicate backend id \"twin\", already used by backends[0] (test.conf:3); give every backend its own id")]
    [InlineData(
        "backends = [ { id = a, endpoint = \"localhost:11434\" } ]",
        "backends[0].endpoint: expected an absolute http:// or https:// URL, got \"localhost:11434\" (test.conf:1); write it like \"http://localhost:11434\"")]
    [InlineData(
        "backends = [ { id = a, endpoint = \"ftp://files\" } ]",
        "backends[0].endpoint: expected an absolute http:// or https:// URL, got \"ftp://files\" (test.conf:1); write it like \"http://localhost:11434\"")]
    [InlineData(
        "server.http-port = 70000",
        "server.http-port: 70000 is out of range (test.conf:1); use a port from 1 to 65535, or 0 to let the system pick one")]
    [InlineData(
        "server.grpc-port = -1",
        "server.grpc-port: -1 is out of range (test.conf:1); use a port from 1 to 65535, or 0 to let the system pick one")]
    [InlineData(
        "backends = [\n  { endpoint = \"http://localhost:1\" }\n]",
        "backends[0]: missing required setting \"id\" (test.conf:2); add id = \"a-unique-name\"")]
    [InlineData(
        "backends = [\n  { id = a }\n]",
        "backends[0]: missing required setting \"endpoint\" (test.conf:2); add endpoint = \"http://localhost:11434\"")]
    [InlineData(
        "server {\n  htp-port = 1\n}",
        "server.htp-port: unknown setting (test.conf:2); did you mean http-port? valid settings here: host, http-port, grpc-port, max-request-body, grpc-max-message, inline-io, allowed-origins, api-keys, insecure, allowed-hosts, drain-timeout")]
    [InlineData(
        "routing.panic-threshold = 2",
        "routing.panic-threshold: 2 is out of range (test.conf:1); use a value from 0 to 1")]
    [InlineData(
        "routing.wait-budget { urgent = 1s }",
        "routing.wait-budget.urgent: unknown setting (test.conf:1); valid settings here: best-effort, normal, high, critical")]
    [InlineData(
        "routing.max-queue-wait { urgent = 1s }",
        "routing.max-queue-wait.urgent: unknown setting (test.conf:1); valid settings here: best-effort, normal, high, critical")]
    [InlineData(
        "servers.http-port = 1",
        "servers: unknown setting (test.conf:1); did you mean server? valid settings here: server, routing, telemetry, dbus, desktop, backend-defaults, backends, cluster, akka")]
    [InlineData(
        "backends = [ { id = a, endpoint = \"http://localhost:1\", power-wats = 3 } ]",
        "backends[0].power-wats: unknown setting (test.conf:1); did you mean power-watts? valid settings here: id, type, name, hardware, enabled, endpoint, power-watts, avg-latency-ms, priority, max-concurrent, queue-limits, api-key, timeouts, health, sensors")]
    [InlineData(
        "backends = [ { id = a, endpoint = \"http://localhost:1\", queue-limits { urgent = 1 } } ]",
        "backends[0].queue-limits.urgent: unknown setting (test.conf:1); valid settings here: best-effort, normal, high, critical")]
    [InlineData(
        "routing.aging-interval = 5 parsecs",
        "routing.aging-interval: expected a duration such as 5s, 100ms, 2m, 1h or 30 seconds, got \"5 parsecs\" (test.conf:1)")]
    [InlineData(
        "routing.aging-interval = 0s",
        "routing.aging-interval: 0s is not a positive duration (test.conf:1); use a duration above zero, e.g. 5s")]
    [InlineData(
        "server.max-request-body = lots",
        "server.max-request-body: expected a size such as 10MiB, 4MB, 512k or a number of bytes, got \"lots\" (test.conf:1)")]
    [InlineData(
        "routing.power-aware = maybe",
        "routing.power-aware: expected true or false, got \"maybe\" (test.conf:1)")]
    [InlineData(
        "server.inline-io = sometimes",
        "server.inline-io: expected true or false, got \"sometimes\" (test.conf:1)")]
    [InlineData(
        "routing.max-attempts = 2.5",
        "routing.max-attempts: expected a whole number, got 2.5 (test.conf:1)")]
    [InlineData(
        "routing.max-attempts = 0",
        "routing.max-attempts: 0 is out of range (test.conf:1); use a value from 1 to 100")]
    [InlineData(
        "routing { max-attempts { x = 1 } }",
        "routing.max-attempts: expected a single value, got an object (test.conf:1)")]
    [InlineData(
        "server = 5",
        "server: expected an object, got 5 (test.conf:1); write server { ... }")]
    [InlineData(
        "backends = [ { id = a, endpoint = \"http://localhost:1\", type = vllm } ]",
        "backends[0].type: unknown backend type \"vllm\" (test.conf:1); valid types: ollama, openai")]
    [InlineData(
        "backends = [ { id = a, endpoint = \"http://localhost:1\", max-concurrent = 0 } ]",
        "backends[0].max-concurrent: 0 is out of range (test.conf:1); use a value from 1 to 10000")]
    [InlineData(
        "backends = [ { id = a, endpoint = \"http://localhost:1\", power-watts = -3 } ]",
        "backends[0].power-watts: -3 is out of range (test.conf:1); use a value of at least 0")]
    [InlineData(
        "backends = [ { id = a, endpoint = \"http://localhost:1\"\n  sensors { hot-c = 99 } } ]",
        "backends[0].sensors.hot-c: hot-c (99) must be below limit-c (95) (test.conf:2); a device is penalised above hot-c and excluded above limit-c")]
    [InlineData(
        "backends = [ { id = a, endpoint = \"http://localhost:1\", health { base-ejection = 10m, max-ejection = 1m } } ]",
        "backends[0].health.base-ejection: is longer than max-ejection (test.conf:1); make base-ejection at most max-ejection")]
    [InlineData(
        "backends { a = 1 }",
        "backends: expected an array of backend objects, got an object (test.conf:1); write backends = [ { id = ..., endpoint = ... } ]")]
    [InlineData(
        "backends = [ " + ValidBackend + ", oops ]",
        "backends[1]: expected a backend object, got \"oops\" (test.conf:1); write { id = ..., endpoint = ... }")]
    [InlineData(
        "telemetry.otlp-endpoint = \"not a url\"",
        "telemetry.otlp-endpoint: expected an absolute http:// or https:// URL, got \"not a url\" (test.conf:1); write it like \"http://localhost:11434\"")]
    [InlineData(
        "backends = [ { id = a, endpoint = \"http://localhost:1\", sensors.temperature = [x, { y = 1 }] } ]",
        "backends[0].sensors.temperature[1]: expected a string, got an object (test.conf:1)")]
    [InlineData(
        "dbus.enabled = perhaps",
        "dbus.enabled: expected true or false, got \"perhaps\" (test.conf:1)")]
    [InlineData(
        "dbus.request-routed-per-second = 0",
        "dbus.request-routed-per-second: 0 is out of range (test.conf:1); use 1 to 1000 signals a second; turn the signal off with request-routed-signal = false")]
    [InlineData(
        "dbus { bus-name = x }",
        "dbus.bus-name: unknown setting (test.conf:1); valid settings here: enabled, require-name, request-routed-signal, request-routed-per-second")]
    [InlineData(
        "desktop.notification-interval = 0s",
        "desktop.notification-interval: 0s is not a positive duration (test.conf:1); use a duration above zero, e.g. 5s")]
    [InlineData(
        "desktop { notification = false }",
        "desktop.notification: unknown setting (test.conf:1); did you mean notifications? valid settings here: notifications, notification-interval, power-state")]
    public void Load_InvalidSetting_ErrorNamesPathOriginAndFix(string text, string expected)
    {
        var error = HoconTesting.Fails(text);

        Assert.Equal(expected, Assert.Single(error.Errors));
        Assert.Equal("Invalid configuration: " + expected, error.Message);
    }

    [Fact]
    public void Load_SeveralProblems_AreAllReportedTogether()
    {
        var error = HoconTesting.Fails("""
            server { http-port = 99999, host-name = x }
            routing.default-mode = turbo
            backends = [
              { id = a, endpoint = "http://localhost:1", power-watts = lots }
              { id = a }
            ]
            """);

        Assert.Equal(5, error.Errors.Count);
        Assert.StartsWith("Invalid configuration (5 errors):\n  - server.host-name: unknown setting (test.conf:1)", error.Message, StringComparison.Ordinal);
        Assert.Contains("\n  - server.http-port: 99999 is out of range (test.conf:1)", error.Message, StringComparison.Ordinal);
        Assert.Contains("\n  - routing.default-mode: unknown mode \"turbo\" (test.conf:2)", error.Message, StringComparison.Ordinal);
        Assert.Contains("\n  - backends[0].power-watts: expected a number, got \"lots\" (test.conf:4)", error.Message, StringComparison.Ordinal);
        Assert.Contains("\n  - backends[1]: missing required setting \"endpoint\" (test.conf:5)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_DesktopSettings_BoundWithDefaultsFromTheFile()
    {
        var defaults = ConfigLoader.LoadDefault();
        Assert.True(defaults.DBus.Enabled);
        Assert.True(defaults.DBus.RequireName);
        Assert.False(defaults.DBus.RequestRoutedSignal);
        Assert.True(defaults.Desktop.Notifications);
        Assert.True(defaults.Desktop.PowerState);

        var config = ConfigLoader.FromHoconText("""
            dbus { enabled = false, require-name = false, request-routed-signal = true, request-routed-per-second = 3 }
            desktop { notifications = false, notification-interval = 2m, power-state = false }
            """, "test.conf", new Dictionary<string, string> { ["OLLAMA_PROXY_DBUS_ENABLED"] = "true" });

        Assert.Equal(new DBusConfig { Enabled = true, RequireName = false, RequestRoutedSignal = true, RequestRoutedPerSecond = 3 }, config.DBus);
        Assert.Equal(new DesktopConfig { Notifications = false, NotificationInterval = TimeSpan.FromMinutes(2), PowerState = false }, config.Desktop);
    }

    [Fact]
    public void Load_UnknownKeysInBackendDefaults_AreTolerated()
    {
        var config = ConfigLoader.FromHoconText("""
            backend-defaults { future-setting = 1, sensors { extra = 2 }, max-concurrent = 2 }
            backends = [ ${backend-defaults} { id = a, endpoint = "http://localhost:1" } ]
            """, "test.conf", new Dictionary<string, string>());

        Assert.Equal(2, Assert.Single(config.Backends).MaxConcurrent);
    }

    [Fact]
    public void Load_InheritedValueOfWrongType_IsReportedOnceAtBackendDefaults()
    {
        var error = HoconTesting.Fails("""
            backend-defaults {
              max-concurrent = many
            }
            backends = [
              ${backend-defaults} { id = a, endpoint = "http://localhost:1" }
              ${backend-defaults} { id = b, endpoint = "http://localhost:2", sensors { hot-c = 99 } }
            ]
            """);

        Assert.Equal(
            [
                "backend-defaults.max-concurrent: expected a whole number, got \"many\" (test.conf:2)",
                "backends[1].sensors.hot-c: hot-c (99) must be below limit-c (95) (test.conf:6); a device is penalised above hot-c and excluded above limit-c",
            ],
            error.Errors);
    }

    [Fact]
    public void Load_QueueLimitsAndTimeouts_BindInPriorityOrder()
    {
        var config = ConfigLoader.FromHoconText("""
            backends = [ {
              id = a, endpoint = "https://gpu.example:8443/v1", type = openai, api-key = secret
              queue-limits { best-effort = 1, normal = 2, high = 3, critical = 4 }
              timeouts { connect = 250ms, first-byte = 2m, idle = 10 seconds }
            } ]
            """, "test.conf", new Dictionary<string, string>());

        var backend = Assert.Single(config.Backends);
        Assert.Equal([1, 2, 3, 4], backend.QueueLimits.ToArray());
        Assert.Equal((TimeSpan.FromMilliseconds(250), TimeSpan.FromMinutes(2), TimeSpan.FromSeconds(10)), (backend.Timeouts.Connect, backend.Timeouts.FirstByte, backend.Timeouts.Idle));
        Assert.Equal(("openai", "secret", "https://gpu.example:8443/v1"), (backend.Type, backend.ApiKey, backend.Endpoint.ToString()));
    }

    [Theory]
    [InlineData("", true)]
    [InlineData("server.inline-io = off", false)]
    [InlineData("server.inline-io = true", true)]
    public void Load_InlineIo_IsOnUnlessTurnedOff(string text, bool expected)
    {
        var config = ConfigLoader.FromHoconText(text, "test.conf", new Dictionary<string, string>());

        Assert.Equal(expected, config.Server.InlineIo);
    }

    [Fact]
    public void Load_InlineIo_CanBeTurnedOffFromTheEnvironment()
    {
        var config = ConfigLoader.FromHoconText("", "test.conf", new Dictionary<string, string> { ["OLLAMA_PROXY_SERVER_INLINE_IO"] = "false" });

        Assert.False(config.Server.InlineIo);
    }

    [Fact]
    public void Load_AllowedOrigins_ListOrCommaSeparatedFromTheEnvironment()
    {
        var fromFile = ConfigLoader.FromHoconText("""server.allowed-origins = ["https://chat.example", "chrome-extension://*"]""", "test.conf", new Dictionary<string, string>());
        var fromEnvironment = ConfigLoader.FromHoconText("", "test.conf", new Dictionary<string, string> { ["OLLAMA_PROXY_SERVER_ALLOWED_ORIGINS"] = "https://a.example, https://b.example" });

        Assert.Equal(["https://chat.example", "chrome-extension://*"], fromFile.Server.AllowedOrigins.ToArray());
        Assert.Equal(["https://a.example", "https://b.example"], fromEnvironment.Server.AllowedOrigins.ToArray());
    }

    [Fact]
    public void Load_AllowedOriginWithoutScheme_NamesTheSettingAndTheFix()
    {
        var error = Assert.Throws<ConfigException>(() => ConfigLoader.FromHoconText("server.allowed-origins = [chat.example]", "test.conf", new Dictionary<string, string>()));

        Assert.Contains("server.allowed-origins: \"chat.example\" is not an origin (test.conf:1)", error.Message, StringComparison.Ordinal);
        Assert.Contains("https://chat.example", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DefaultConfig_TakesOllamaOrigins()
    {
        var config = ConfigLoader.LoadDefault(new Dictionary<string, string> { ["OLLAMA_ORIGINS"] = "https://chat.example,moz-extension://*" });

        Assert.Equal(["https://chat.example", "moz-extension://*"], config.Server.AllowedOrigins.ToArray());
    }

    private const string Key = "0123456789abcdef0123456789abcdef";

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("192.168.1.5")]
    [InlineData("::")]
    public void Load_BeyondLoopbackWithoutKeys_RefusedSayingHowToFixIt(string host)
    {
        var error = Assert.Throws<ConfigException>(() => ConfigLoader.FromHoconText($"server.host = \"{host}\"", "test.conf", new Dictionary<string, string>()));

        Assert.Contains("server.api-keys", error.Message, StringComparison.Ordinal);
        Assert.Contains("(test.conf:1)", error.Message, StringComparison.Ordinal);
        Assert.Contains("openssl rand -hex 32", error.Message, StringComparison.Ordinal);
        Assert.Contains("server.insecure = true", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("server { host = \"0.0.0.0\", api-keys = [\"" + Key + "\"] }")]
    [InlineData("server { host = \"0.0.0.0\", insecure = true }")]
    [InlineData("server { host = \"127.0.0.2\" }")]
    [InlineData("server { host = localhost }")]
    public void Load_KeysInsecureOrLoopback_Starts(string text)
    {
        var config = ConfigLoader.FromHoconText(text, "test.conf", new Dictionary<string, string>());

        Assert.True(config.Server.IsLoopbackOnly || !config.Server.ApiKeys.IsEmpty || config.Server.Insecure);
    }

    [Theory]
    [InlineData("short")]
    [InlineData("0123456789abcdef 0123")]
    [InlineData("0123456789abcdef/0123=")]
    public void Load_WeakOrUnsendableKey_NamesTheSettingAndHowToMakeOne(string key)
    {
        var error = Assert.Throws<ConfigException>(() => ConfigLoader.FromHoconText($"server.api-keys = [\"{key}\"]", "test.conf", new Dictionary<string, string>()));

        Assert.Contains("server.api-keys", error.Message, StringComparison.Ordinal);
        Assert.Contains("openssl rand -hex 32", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(key, error.Message, StringComparison.Ordinal); // a key is not echoed to logs
    }

    [Fact]
    public void DefaultConfig_TakesApiKeysFromTheEnvironment()
    {
        var config = ConfigLoader.LoadDefault(new Dictionary<string, string> { ["OLLAMA_PROXY_API_KEYS"] = Key + ", " + Key.ToUpperInvariant(), ["OLLAMA_PROXY_HOST"] = "0.0.0.0" });

        Assert.Equal([Key, Key.ToUpperInvariant()], config.Server.ApiKeys.ToArray());
        Assert.Equal("0.0.0.0", config.Server.Host);
    }

    [Fact]
    public void Load_AllowedHosts_NamesOnly()
    {
        var config = ConfigLoader.FromHoconText("server.allowed-hosts = [router.lan, \"*.example.com\"]", "test.conf", new Dictionary<string, string>());
        var error = Assert.Throws<ConfigException>(() => ConfigLoader.FromHoconText("server.allowed-hosts = [\"http://router.lan\"]", "test.conf", new Dictionary<string, string>()));

        Assert.Equal(["router.lan", "*.example.com"], config.Server.AllowedHosts.ToArray());
        Assert.Contains("server.allowed-hosts", error.Message, StringComparison.Ordinal);
    }
}
