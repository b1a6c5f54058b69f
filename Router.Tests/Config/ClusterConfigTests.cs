using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Akka.Event;
using Router.Actors.Config;
using Router.Actors.Fleet;
using Router.Tests.TestKit;

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
    public void FleetActorSystem_WithCertificate_TurnsOnMutualTlsThatAcceptsOnlyTheFleetsCertificate()
    {
        using var folder = new TempFolder();
        var fleetPfx = TestCertificates.Write(folder.Path, "fleet");
        var otherPfx = TestCertificates.Write(folder.Path, "other");
        var ssl = new ClusterSslConfig { Certificate = fleetPfx, Password = TestCertificates.Password };

        var akka = FleetActorSystemConfig.For(new ClusterConfig { Ssl = ssl });
        var setup = FleetTls.SetupFor(ssl);

        Assert.True(akka.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl"));
        Assert.True(setup.RequireMutualAuthentication);
        Assert.False(setup.SuppressValidation);
        using var fleet = X509CertificateLoader.LoadPkcs12FromFile(fleetPfx, TestCertificates.Password);
        using var other = X509CertificateLoader.LoadPkcs12FromFile(otherPfx, TestCertificates.Password);
        // Both self-signed, so both fail chain validation: only the fleet's own is let in.
        const SslPolicyErrors untrusted = SslPolicyErrors.RemoteCertificateChainErrors;
        Assert.True(setup.CustomValidator!(fleet, null, "peer", untrusted, NoLogger.Instance));
        Assert.False(setup.CustomValidator!(other, null, "peer", untrusted, NoLogger.Instance));
        Assert.False(setup.CustomValidator!(other, null, "peer", SslPolicyErrors.None, NoLogger.Instance));
        Assert.False(setup.CustomValidator!(null, null, "peer", SslPolicyErrors.RemoteCertificateNotAvailable, NoLogger.Instance));
    }

    [Theory]
    [InlineData("desktop:4053", false, "akka.tcp://ollama-proxy-fleet@desktop:4053")]
    [InlineData("desktop:4053", true, "akka.ssl.tcp://ollama-proxy-fleet@desktop:4053")]
    [InlineData("akka.tcp://ollama-proxy-fleet@desktop:4053", true, "akka.ssl.tcp://ollama-proxy-fleet@desktop:4053")]
    [InlineData("akka.ssl.tcp://ollama-proxy-fleet@desktop:4053", false, "akka.tcp://ollama-proxy-fleet@desktop:4053")]
    public void Seed_IsReachedUnderThisNodesProtocol(string seed, bool tls, string expected)
    {
        Assert.True(FleetAddresses.TryParseSeed(seed, tls, out var address, out var problem), problem);
        Assert.Equal(expected, address.ToString());
    }

    [Fact]
    public void BeyondLoopback_WithTls_IsAccepted()
    {
        using var folder = new TempFolder();
        var pfx = TestCertificates.Write(folder.Path, "fleet");

        var config = Load(SslSection(pfx, TestCertificates.Password, """server { host = "0.0.0.0", insecure = true }, cluster.hostname = "192.168.1.10" """));

        Assert.True(config.Cluster.Ssl.Enabled);
        Assert.False(config.Cluster.Insecure);
    }

    [Fact]
    public void TlsCertificate_WithTheWrongPassword_NamesThePassword()
    {
        using var folder = new TempFolder();
        var pfx = TestCertificates.Write(folder.Path, "fleet");

        var message = Errors(SslSection(pfx, "not-the-password"));

        Assert.Contains($"cluster.ssl.password: does not open {pfx}", message, StringComparison.Ordinal);
    }

    [Fact]
    public void TlsCertificate_WithoutItsPrivateKey_IsRefused()
    {
        using var folder = new TempFolder();
        var pfx = TestCertificates.Write(folder.Path, "fleet", withPrivateKey: false);

        var message = Errors(SslSection(pfx, TestCertificates.Password));

        Assert.Contains($"cluster.ssl.certificate: {pfx} holds the certificate without its private key", message, StringComparison.Ordinal);
        Assert.Contains("openssl pkcs12 -export", message, StringComparison.Ordinal);
    }

    [Fact]
    public void TlsCertificate_ForServersOnly_IsRefused()
    {
        using var folder = new TempFolder();
        var pfx = TestCertificates.Write(folder.Path, "fleet", clientAuthentication: false);

        var message = Errors(SslSection(pfx, TestCertificates.Password));

        Assert.Contains("does not allow both TLS server and TLS client authentication", message, StringComparison.Ordinal);
        Assert.Contains("extendedKeyUsage=serverAuth,clientAuth", message, StringComparison.Ordinal);
    }

    [Fact]
    public void TlsCertificate_Expired_SaysWhen()
    {
        using var folder = new TempFolder();
        var pfx = TestCertificates.Write(folder.Path, "fleet", validFrom: DateTimeOffset.UtcNow.AddDays(-60));

        Assert.Contains($"cluster.ssl.certificate: {pfx} holds a certificate that expired on", Errors(SslSection(pfx, TestCertificates.Password)), StringComparison.Ordinal);
    }

    [Fact]
    public void TlsCertificate_NotPkcs12_IsRefused()
    {
        using var folder = new TempFolder();
        var pem = System.IO.Path.Combine(folder.Path, "fleet.crt");
        File.WriteAllText(pem, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");

        Assert.Contains($"cluster.ssl.certificate: {pem} is not a PKCS#12 file", Errors(SslSection(pem, "")), StringComparison.Ordinal);
    }

    [Fact]
    public void SuppressValidation_IsNoLongerASetting_AndSaysWhy()
    {
        var message = Errors("cluster.ssl.suppress-validation = true");

        Assert.Contains("cluster.ssl.suppress-validation: is no longer a setting: a node now accepts exactly the fleet's certificate", message, StringComparison.Ordinal);
        Assert.DoesNotContain("unknown setting", message, StringComparison.Ordinal);
    }

    private static string SslSection(string certificate, string password, string more = "") => $$"""
        cluster { enabled = true, shared-secret = "{{Secret}}", ssl { certificate = "{{certificate}}", password = "{{password}}" } }
        {{more}}
        """;

    private sealed class TempFolder : IDisposable
    {
        private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("ollama-proxy-certs-");

        public string Path => _folder.FullName;

        public void Dispose() => _folder.Delete(recursive: true);
    }
}
