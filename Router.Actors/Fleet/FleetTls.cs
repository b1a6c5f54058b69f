using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Event;
using Akka.Remote.Transport.DotNetty;
using Router.Actors.Config;

namespace Router.Actors.Fleet;

/// <summary>
/// TLS for the fleet's remoting: every node holds the same certificate (one PKCS#12 file, copied to
/// each machine), and a node accepts a TLS peer only when it presents exactly that certificate, in
/// both directions (mutual TLS).
/// </summary>
/// <remarks>
/// Pinning the certificate rather than validating its chain is what makes a self-signed fleet
/// certificate safe. Akka's own <c>suppress-validation</c> accepts every certificate, so anyone who
/// makes one joins the fleet and is sent forwarded requests with the shared secret; plain chain
/// validation with host names ignored (as remoting addresses are IPs) accepts anyone holding any
/// certificate from a public authority.
/// </remarks>
internal static class FleetTls
{
    /// <summary>The OIDs of the extended key usages remoting needs: a node is a TLS server and a TLS client.</summary>
    private const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuthentication = "1.3.6.1.5.5.7.3.2";

    /// <summary>Windows' ERROR_INVALID_PASSWORD, which .NET reports for a PKCS#12 file opened with the wrong password on every platform.</summary>
    private const int InvalidPasswordResult = unchecked((int)0x80070056);

    /// <summary>Opens the configured PKCS#12 file. Throws <see cref="CryptographicException"/> (see <see cref="IsWrongPassword"/>).</summary>
    public static X509Certificate2 Load(ClusterSslConfig ssl)
    {
        ArgumentNullException.ThrowIfNull(ssl);
        return X509CertificateLoader.LoadPkcs12FromFile(ssl.Certificate, ssl.Password);
    }

    public static bool IsWrongPassword(CryptographicException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e.HResult == InvalidPasswordResult;
    }

    /// <summary>What keeps <paramref name="certificate"/> from serving remoting, or null.</summary>
    public static string? Problem(X509Certificate2 certificate, DateTime now)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (!certificate.HasPrivateKey)
        {
            return "holds the certificate without its private key";
        }

        if (now < certificate.NotBefore)
        {
            return $"holds a certificate valid only from {certificate.NotBefore:u}";
        }

        if (now > certificate.NotAfter)
        {
            return $"holds a certificate that expired on {certificate.NotAfter:u}";
        }

        var usages = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().FirstOrDefault();
        if (usages is not null)
        {
            var oids = usages.EnhancedKeyUsages.Cast<Oid>().Select(o => o.Value).ToHashSet(StringComparer.Ordinal);
            if (!oids.Contains(ServerAuthentication) || !oids.Contains(ClientAuthentication))
            {
                return "holds a certificate whose extended key usage does not allow both TLS server and TLS client authentication (every node is both)";
            }
        }

        return null;
    }

    /// <summary>Akka.Remote's TLS settings for the fleet: this certificate, mutual TLS, and only this certificate accepted from peers.</summary>
    public static DotNettySslSetup SetupFor(ClusterSslConfig ssl)
    {
        var certificate = Load(ssl);
        return new DotNettySslSetup(certificate, suppressValidation: false, requireMutualAuthentication: true,
            validateCertificateHostname: false, AcceptOnly(certificate));
    }

    /// <summary>Accepts a peer whose certificate is <paramref name="fleetCertificate"/>; refuses (and logs) any other.</summary>
    internal static CertificateValidationCallback AcceptOnly(X509Certificate2 fleetCertificate)
    {
        ArgumentNullException.ThrowIfNull(fleetCertificate);
        var fleetHash = fleetCertificate.GetCertHashString(HashAlgorithmName.SHA256);
        return (certificate, _, peer, errors, log) =>
        {
            if (certificate is null)
            {
                log.Warning("Fleet: refused the TLS connection with {0}: it presented no certificate", peer);
                return false;
            }

            if (string.Equals(certificate.GetCertHashString(HashAlgorithmName.SHA256), fleetHash, StringComparison.Ordinal))
            {
                return true;
            }

            log.Warning("Fleet: refused the TLS connection with {0}: its certificate ({1}) is not this fleet's certificate ({2}); every node needs the same cluster.ssl.certificate file",
                peer, certificate.Subject, fleetCertificate.Subject);
            return false;
        };
    }
}
