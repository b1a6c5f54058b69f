using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Router.Tests.TestKit;

namespace Router.Tests.EndToEnd;

/// <summary>
/// The fleet with TLS, as the README sets it up: every node holds the same self-signed certificate
/// (a PKCS#12 file made here, as <c>openssl req -x509</c> would), remoting speaks TLS with it, and
/// a node refuses peers that present any other certificate.
/// </summary>
public sealed partial class FleetProcessTests
{
    [Fact]
    public async Task TwoNodesOverTls_FormAFleetAndForward_AnotherCertificateIsRefused()
    {
        var folder = Directory.CreateTempSubdirectory("ollama-proxy-fleet-tls-");
        try
        {
            var fleetPfx = TestCertificates.Write(folder.FullName, "fleet");
            var strangerPfx = TestCertificates.Write(folder.FullName, "stranger");
            await using var a = await FleetNode.StartAsync("node-a", seed: null, Tls(fleetPfx));
            var seed = await a.ClusterAddressAsync();
            await using var b = await FleetNode.StartAsync("node-b", seed, Tls(fleetPfx));

            await a.WaitForBackendsAsync("node-b", present: true);
            using (var answer = await a.PostAsync("/api/generate", """{"model":"llama3.2:1b","prompt":"hi","stream":false,"options":{"num_predict":2}}""",
                ("X-Target-Backend", "node-b/ollama-npu")))
            {
                Assert.True(answer.IsSuccessStatusCode, await answer.Content.ReadAsStringAsync());
                Assert.Equal("node-b/ollama-npu", Header(answer, "X-Backend-Used"));
                Assert.Equal("node-b", Header(answer, "X-Backend-Node"));
            }

            using (var cluster = JsonDocument.Parse(await a.Http.GetStringAsync("/cluster")))
            {
                var members = cluster.RootElement.GetProperty("members").EnumerateArray()
                    .ToDictionary(m => m.GetProperty("node").GetString()!, m => m.GetProperty("state").GetString());
                Assert.Equal("up", members["node-a"]);
                Assert.Equal("up", members["node-b"]);
            }

            // Remoting's port speaks TLS and shows the fleet's certificate: were TLS off, Akka's
            // framing would take the ClientHello for an oversized frame and drop the connection.
            using (var fleetCertificate = X509CertificateLoader.LoadPkcs12FromFile(fleetPfx, TestCertificates.Password))
            {
                var presented = await TlsHandshakeAsync(seed, fleetCertificate);
                Assert.Equal(fleetCertificate.Thumbprint, presented);
            }

            // A client presenting another certificate (self-signed too, and so just as easy to make) is refused.
            using (var strangerCertificate = X509CertificateLoader.LoadPkcs12FromFile(strangerPfx, TestCertificates.Password))
            {
                await TlsHandshakeAsync(seed, strangerCertificate);
                await a.WaitForLogAsync("Fleet: refused the TLS connection with ");
            }

            // And so is a daemon with such a certificate: it never becomes a member.
            await using var stranger = await FleetNode.StartAsync("stranger", seed, untilUp: false, Tls(strangerPfx));
            await stranger.WaitForLogAsync("Fleet: refused the TLS connection with ");
            Assert.DoesNotContain("stranger", await a.MembersAsync());
            Assert.NotEqual("up", await stranger.StateAsync());
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static (string Name, string Value)[] Tls(string pfx) =>
    [
        ("OLLAMA_PROXY_CLUSTER_SSL_CERTIFICATE", pfx),
        ("OLLAMA_PROXY_CLUSTER_SSL_PASSWORD", TestCertificates.Password),
    ];

    /// <summary>Opens TLS to <paramref name="hostPort"/> (presenting <paramref name="clientCertificate"/>) and returns the thumbprint of the certificate it shows.</summary>
    private static async Task<string?> TlsHandshakeAsync(string hostPort, X509Certificate2 clientCertificate)
    {
        var separator = hostPort.LastIndexOf(':');
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(hostPort[..separator], int.Parse(hostPort[(separator + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        string? presented = null;
        await using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ClientCertificates = [clientCertificate],
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            {
                presented = (certificate as X509Certificate2)?.Thumbprint;
                return true;
            },
        }).WaitAsync(TimeSpan.FromSeconds(20));
        return presented;
    }
}
