using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Router.Tests.TestKit;

/// <summary>Self-signed certificates written as PKCS#12 files, as <c>openssl req -x509 … && openssl pkcs12 -export</c> makes them.</summary>
internal static class TestCertificates
{
    public const string Password = "fleet-pfx-password";

    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");

    /// <param name="name">The file's name (without .pfx), also in the subject.</param>
    /// <param name="clientAuthentication">Whether the certificate may serve as a TLS client's (server use is always allowed).</param>
    /// <param name="withPrivateKey">False: the file holds only the certificate.</param>
    /// <param name="validFrom">The start of its validity (default: yesterday); it lasts 30 days.</param>
    public static string Write(string folder, string name, bool clientAuthentication = true, bool withPrivateKey = true, DateTimeOffset? validFrom = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=ollama-proxy {name}", key, HashAlgorithmName.SHA256);
        var usages = new OidCollection { ServerAuthentication };
        if (clientAuthentication)
        {
            usages.Add(ClientAuthentication);
        }

        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(usages, critical: false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        var from = validFrom ?? DateTimeOffset.UtcNow.AddDays(-1);
        using var certificate = request.CreateSelfSigned(from, from.AddDays(30));
        using var exported = withPrivateKey ? null : X509CertificateLoader.LoadCertificate(certificate.RawData);
        var path = Path.Combine(folder, name + ".pfx");
        File.WriteAllBytes(path, (exported ?? certificate).Export(X509ContentType.Pkcs12, Password));
        return path;
    }
}
