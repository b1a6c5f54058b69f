using System.Net;
using System.Security.Cryptography;
using Router.Actors.Config.Hocon;
using Router.Actors.Fleet;

namespace Router.Actors.Config;

/// <summary>The <c>cluster { }</c> section: the fleet's settings and the checks that keep it safe.</summary>
internal static partial class ConfigBinder
{
    /// <summary>Short secrets can be guessed; 16 characters of a random string are plenty.</summary>
    internal const int MinSharedSecretLength = 16;

    private const string SecretHint =
        "set the same long random string on every machine of the fleet, e.g. the output of `openssl rand -hex 32`, "
        + "in cluster.shared-secret or the environment variable OLLAMA_PROXY_CLUSTER_SHARED_SECRET";

    private static ClusterConfig BindCluster(SettingsReader? section, ClusterConfig defaults)
    {
        if (section is null)
        {
            return defaults;
        }

        section.RejectUnknown(ConfigSchema.ClusterKeys);
        var cluster = defaults with
        {
            Enabled = section.Bool("enabled", defaults.Enabled),
            NodeName = section.String("node-name", defaults.NodeName).Trim(),
            Hostname = section.String("hostname", defaults.Hostname).Trim(),
            Port = section.Int("port", defaults.Port, 0, 65535, "use a port from 1 to 65535, or 0 to let the system pick one"),
            SeedNodes = section.StringList("seed-nodes", defaults.SeedNodes),
            Roles = section.StringList("roles", defaults.Roles),
            Insecure = section.Bool("insecure", defaults.Insecure),
            SharedSecret = section.String("shared-secret", defaults.SharedSecret),
            BatteryEnergyWeight = section.Double("battery-energy-weight", defaults.BatteryEnergyWeight, 1, 1000),
            HttpEndpoint = section.Url("http-endpoint") ?? defaults.HttpEndpoint,
            RejoinAfter = section.Duration("rejoin-after", defaults.RejoinAfter),
            RoundTripInterval = section.Duration("round-trip-interval", defaults.RoundTripInterval),
            PublishInterval = section.Duration("publish-interval", defaults.PublishInterval),
            Ssl = BindClusterSsl(section.Child(ConfigSchema.ClusterSsl), defaults.Ssl),
            FailureDetector = BindFailureDetector(section.Child(ConfigSchema.ClusterFailureDetector), defaults.FailureDetector),
            SplitBrain = BindSplitBrain(section.Child(ConfigSchema.ClusterSplitBrain), defaults.SplitBrain),
        };

        CheckNodeName(section, cluster.NodeName);
        foreach (var seed in cluster.SeedNodes)
        {
            if (!FleetAddresses.TryParseSeed(seed, cluster.Ssl.Enabled, out _, out var problem))
            {
                ClusterError(section, "seed-nodes", $"\"{seed}\" is not a node address: {problem}",
                    $"write host:port, e.g. \"desktop.lan:{ClusterConfig.DefaultPort}\"");
            }
        }

        if (cluster.Hostname.Length == 0)
        {
            ClusterError(section, "hostname", "the remoting address is empty",
                "use 127.0.0.1 for one machine, or this machine's address on the network the fleet shares");
        }

        if (!cluster.Enabled)
        {
            return cluster;
        }

        if (cluster.SharedSecret.Length == 0)
        {
            section.Errors.Add(section.PathOf("shared-secret"), "the fleet is enabled but has no shared secret", OriginOf(section, "shared-secret") ?? section.Object.Origin, SecretHint);
        }
        else if (cluster.SharedSecret.Length < MinSharedSecretLength)
        {
            ClusterError(section, "shared-secret", $"is {cluster.SharedSecret.Length} characters long; at least {MinSharedSecretLength} are needed", SecretHint);
        }

        if (!IsLoopback(cluster.Hostname) && !cluster.Ssl.Enabled && !cluster.Insecure)
        {
            section.Errors.Add(section.PathOf("hostname"),
                $"remoting would listen on {cluster.Hostname}, beyond this machine, without TLS: anyone on that network could join the fleet",
                OriginOf(section, "hostname") ?? section.Object.Origin,
                "give every node a certificate (cluster.ssl.certificate = \"/path/to/fleet.pfx\", cluster.ssl.password), "
                + "or, on a network you trust or one already encrypted (WireGuard, Tailscale), set cluster.insecure = true");
        }

        return cluster;
    }

    private const string RetiredSuppressValidation = "suppress-validation";

    private const string CertificateHint =
        "give the path of a PKCS#12 (.pfx) file with the certificate and its private key, for TLS server and client use, the same file on every machine: "
        + "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 -subj /CN=ollama-proxy-fleet "
        + "-addext extendedKeyUsage=serverAuth,clientAuth -keyout fleet.key -out fleet.crt && openssl pkcs12 -export -in fleet.crt -inkey fleet.key -out fleet.pfx";

    private static void CheckNodeName(SettingsReader section, string name)
    {
        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                ClusterError(section, "node-name", $"\"{name}\" contains '{c}'",
                    "use letters, digits, '-', '_' and '.' only (backends are named node-name/backend-id)");
                return;
            }
        }
    }

    private static ClusterSslConfig BindClusterSsl(SettingsReader? section, ClusterSslConfig defaults)
    {
        if (section is null)
        {
            return defaults;
        }

        if (section.Object.TryGet(RetiredSuppressValidation, out HoconValue? retired))
        {
            // It used to be passed to Akka, which then accepted every certificate: anyone could join.
            section.Errors.Add(section.PathOf(RetiredSuppressValidation),
                "is no longer a setting: a node now accepts exactly the fleet's certificate (the same cluster.ssl.certificate file on every machine), self-signed or not",
                retired.Origin, "remove the line");
        }

        section.RejectUnknown([.. ConfigSchema.ClusterSslKeys, RetiredSuppressValidation]);
        var ssl = defaults with
        {
            Certificate = section.String("certificate", defaults.Certificate).Trim(),
            Password = section.String("password", defaults.Password),
        };
        if (!ssl.Enabled)
        {
            return ssl;
        }

        if (!File.Exists(ssl.Certificate))
        {
            ClusterError(section, "certificate", $"no file at {ssl.Certificate}", CertificateHint);
            return ssl;
        }

        try
        {
            using var certificate = FleetTls.Load(ssl);
            if (FleetTls.Problem(certificate, DateTime.Now) is { } problem)
            {
                ClusterError(section, "certificate", $"{ssl.Certificate} {problem}", CertificateHint);
            }
        }
        catch (CryptographicException e) when (FleetTls.IsWrongPassword(e))
        {
            ClusterError(section, "password", $"does not open {ssl.Certificate}",
                "give the password the file was exported with (openssl pkcs12 -export asks for it), e.g. in OLLAMA_PROXY_CLUSTER_SSL_PASSWORD");
        }
        catch (CryptographicException e)
        {
            ClusterError(section, "certificate", $"{ssl.Certificate} is not a PKCS#12 file ({e.Message})", CertificateHint);
        }

        return ssl;
    }

    private static FailureDetectorConfig BindFailureDetector(SettingsReader? section, FailureDetectorConfig defaults)
    {
        if (section is null)
        {
            return defaults;
        }

        section.RejectUnknown(ConfigSchema.ClusterFailureDetectorKeys);
        return defaults with
        {
            HeartbeatInterval = section.Duration("heartbeat-interval", defaults.HeartbeatInterval),
            AcceptableHeartbeatPause = section.Duration("acceptable-heartbeat-pause", defaults.AcceptableHeartbeatPause),
        };
    }

    private static SplitBrainConfig BindSplitBrain(SettingsReader? section, SplitBrainConfig defaults)
    {
        if (section is null)
        {
            return defaults;
        }

        section.RejectUnknown(ConfigSchema.ClusterSplitBrainKeys);
        var strategy = section.String("strategy", defaults.Strategy).Trim().ToLowerInvariant();
        if (Array.IndexOf(ConfigSchema.SplitBrainStrategies, strategy) < 0)
        {
            ClusterError(section, "strategy", $"unknown strategy \"{strategy}\"",
                "use keep-majority (three or more machines) or keep-oldest (two machines: the one started first stays)");
            strategy = defaults.Strategy;
        }

        return defaults with
        {
            Strategy = strategy,
            StableAfter = section.Duration("stable-after", defaults.StableAfter),
            DownIfAlone = section.Bool("down-if-alone", defaults.DownIfAlone),
        };
    }

    /// <summary>
    /// Peers forward requests to this node's HTTP surface: a fleet that spans machines needs the HTTP
    /// listener on an address they can reach, not loopback only.
    /// </summary>
    private static void CheckPeersCanReach(RouterConfig config, SettingsReader root)
    {
        var cluster = config.Cluster;
        if (!cluster.Enabled || IsLoopback(cluster.Hostname) || cluster.HttpEndpoint is not null || !IsLoopback(config.Server.Host))
        {
            return;
        }

        root.Errors.Add("cluster.hostname",
            $"the fleet listens on {cluster.Hostname}, but the HTTP API only on {config.Server.Host}: peers could not forward requests to this machine",
            null, $"set server.host = \"{cluster.Hostname}\" (or 0.0.0.0), or name the address peers should use in cluster.http-endpoint");
    }

    internal static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));

    private static void ClusterError(SettingsReader section, string key, string message, string hint) =>
        section.Errors.Add(section.PathOf(key), message, OriginOf(section, key), hint);

    private static ConfigOrigin? OriginOf(SettingsReader section, string key) =>
        section.Object.TryGet(key, out HoconValue? value) ? value.Origin : null;
}
