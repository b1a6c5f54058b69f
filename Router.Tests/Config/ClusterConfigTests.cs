using Router.Actors.Config;
using Router.Actors.Fleet;

namespace Router.Tests.Config;

/// <summary>The cluster { } section: off by default, and the checks that keep a fleet from opening up by mistake.</summary>
public sealed class ClusterConfigTests
{
    private const string Secret = "0123456789abcdef-fleet";

    private static RouterConfig Load(string text, Dictionary<string, string>? environment = null) =>
        ConfigLoader.FromHoconText(text, "test.conf", environment ?? []);

    private static string Errors(string text) => Assert.Throws<ConfigException>(() => Load(text)).Message;

    [Fact]
    public void Default_FleetIsOff_LoopbackAndKeepMajority()
    {
        var cluster = ConfigLoader.LoadDefault(new Dictionary<string, string>()).Cluster;

        Assert.False(cluster.Enabled);
        Assert.Equal("127.0.0.1", cluster.Hostname);
        Assert.Equal(ClusterConfig.DefaultPort, cluster.Port);
        Assert.Equal("keep-majority", cluster.SplitBrain.Strategy);
        Assert.True(cluster.FailureDetector.AcceptableHeartbeatPause + cluster.FailureDetector.HeartbeatInterval <= TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void Enabled_WithoutSharedSecret_SaysHowToSetOne()
    {
        var message = Errors("cluster.enabled = true");

        Assert.Contains("cluster.shared-secret: the fleet is enabled but has no shared secret", message, StringComparison.Ordinal);
        Assert.Contains("OLLAMA_PROXY_CLUSTER_SHARED_SECRET", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Enabled_WithShortSecret_IsRefused()
    {
        Assert.Contains("at least 16 are needed", Errors("cluster { enabled = true, shared-secret = short }"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("192.168.1.10")]
    [InlineData("0.0.0.0")]
    [InlineData("desktop.lan")]
    public void BeyondLoopback_WithoutTlsOrInsecure_IsRefusedWithTheFix(string host)
    {
        var message = Errors($$"""
            server.host = "0.0.0.0"
            cluster { enabled = true, shared-secret = "{{Secret}}", hostname = "{{host}}" }
            """);

        Assert.Contains($"cluster.hostname: remoting would listen on {host}, beyond this machine, without TLS", message, StringComparison.Ordinal);
        Assert.Contains("cluster.ssl.certificate", message, StringComparison.Ordinal);
        Assert.Contains("cluster.insecure = true", message, StringComparison.Ordinal);
    }

    [Fact]
    public void BeyondLoopback_Insecure_IsAccepted()
    {
        var config = Load($$"""
            server { host = "0.0.0.0", insecure = true }
            cluster { enabled = true, shared-secret = "{{Secret}}", hostname = "192.168.1.10", insecure = true, seed-nodes = ["desktop.lan:4053"] }
            """);

        Assert.True(config.Cluster.Insecure);
        Assert.Equal(new[] { "desktop.lan:4053" }, config.Cluster.SeedNodes.ToArray());
    }

    [Fact]
    public void BeyondLoopback_WithHttpOnLoopback_SaysPeersCouldNotForward()
    {
        var message = Errors($$"""cluster { enabled = true, shared-secret = "{{Secret}}", hostname = "192.168.1.10", insecure = true }""");

        Assert.Contains("peers could not forward requests to this machine", message, StringComparison.Ordinal);
        Assert.Contains("server.host", message, StringComparison.Ordinal);
    }

    [Fact]
    public void TlsCertificate_ThatIsNotThere_IsNamed()
    {
        var message = Errors($$"""cluster { enabled = true, shared-secret = "{{Secret}}", ssl.certificate = "/nowhere/fleet.pfx" }""");

        Assert.Contains("cluster.ssl.certificate: no file at /nowhere/fleet.pfx", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("desktop", "expected host:port")]
    [InlineData("desktop:70000", "expected host:port")]
    [InlineData("akka.tcp://other-system@desktop:4053", "akka.tcp://ollama-proxy-fleet@host:port")]
    public void SeedNode_NotAnAddress_IsRefused(string seed, string expected)
    {
        var message = Errors($$"""cluster.seed-nodes = ["{{seed}}"]""");

        Assert.Contains("cluster.seed-nodes:", message, StringComparison.Ordinal);
        Assert.Contains(expected, message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("cluster.split-brain-resolver.strategy = auto-down", "unknown strategy \"auto-down\"")]
    [InlineData("cluster.node-name = \"my laptop\"", "cluster.node-name: \"my laptop\" contains ' '")]
    [InlineData("cluster.battery-energy-weight = 0.5", "cluster.battery-energy-weight: 0.5 is out of range")]
    [InlineData("cluster.failure-detector.heartbeat = 1s", "cluster.failure-detector.heartbeat: unknown setting")]
    public void InvalidSetting_NamesItAndTheFix(string text, string expected)
    {
        Assert.Contains(expected, Errors(text), StringComparison.Ordinal);
    }

    [Fact]
    public void NestedSettings_CanBeSetFromTheEnvironment()
    {
        var config = Load("", new Dictionary<string, string>
        {
            ["OLLAMA_PROXY_CLUSTER_ENABLED"] = "true",
            ["OLLAMA_PROXY_CLUSTER_SHARED_SECRET"] = Secret,
            ["OLLAMA_PROXY_CLUSTER_SEED_NODES"] = "a.lan:4053, b.lan:4053",
            ["OLLAMA_PROXY_CLUSTER_FAILURE_DETECTOR_ACCEPTABLE_HEARTBEAT_PAUSE"] = "1500ms",
            ["OLLAMA_PROXY_CLUSTER_SPLIT_BRAIN_RESOLVER_STRATEGY"] = "keep-oldest",
        });

        Assert.True(config.Cluster.Enabled);
        Assert.Equal(new[] { "a.lan:4053", "b.lan:4053" }, config.Cluster.SeedNodes.ToArray());
        Assert.Equal(TimeSpan.FromMilliseconds(1500), config.Cluster.FailureDetector.AcceptableHeartbeatPause);
        Assert.Equal("keep-oldest", config.Cluster.SplitBrain.Strategy);
    }

    [Fact]
    public void FleetActorSystem_ClusterProviderSplitBrainResolverAndFailureDetectorAsConfigured()
    {
        var cluster = new ClusterConfig
        {
            Enabled = true,
            Port = 0,
            SplitBrain = new SplitBrainConfig { Strategy = "keep-oldest", StableAfter = TimeSpan.FromSeconds(3) },
            FailureDetector = new FailureDetectorConfig { AcceptableHeartbeatPause = TimeSpan.FromSeconds(2) },
        };

        var akka = FleetActorSystemConfig.For(cluster);

        Assert.Equal("cluster", akka.GetString("akka.actor.provider"));
        Assert.Equal("127.0.0.1", akka.GetString("akka.remote.dot-netty.tcp.hostname"));
        Assert.False(akka.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl"));
        Assert.Equal("keep-oldest", akka.GetString("akka.cluster.split-brain-resolver.active-strategy"));
        Assert.Equal(TimeSpan.FromSeconds(3), akka.GetTimeSpan("akka.cluster.split-brain-resolver.stable-after"));
        Assert.Equal(TimeSpan.FromSeconds(2), akka.GetTimeSpan("akka.cluster.failure-detector.acceptable-heartbeat-pause"));
    }

    [Fact]
    public void FleetActorSystem_WithCertificate_TurnsOnMutualTls()
    {
        var cluster = new ClusterConfig { Ssl = new ClusterSslConfig { Certificate = "/etc/fleet \"a\".pfx", Password = "p" } };

        var akka = FleetActorSystemConfig.For(cluster);

        Assert.True(akka.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl"));
        Assert.Equal("/etc/fleet \"a\".pfx", akka.GetString("akka.remote.dot-netty.tcp.ssl.certificate.path"));
        Assert.True(akka.GetBoolean("akka.remote.dot-netty.tcp.ssl.require-mutual-authentication"));
    }
}
