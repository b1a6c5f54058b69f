using System.Globalization;
using System.Text;
using Router.Actors.Config;
using AkkaConfig = Akka.Configuration.Config;
using AkkaConfigurationFactory = Akka.Configuration.ConfigurationFactory;

namespace Router.Actors.Fleet;

/// <summary>
/// The Akka.NET settings of the fleet's own actor system, from the <c>cluster { }</c> section:
/// the cluster provider, remoting over TCP (TLS when a certificate is given: see <see cref="FleetTls"/>), the failure detector,
/// the split-brain resolver, and the one serializer fleet messages use.
/// </summary>
internal static class FleetActorSystemConfig
{
    public static AkkaConfig For(ClusterConfig cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        return AkkaConfigurationFactory.ParseString(Render(cluster));
    }

    /// <summary>The HOCON text (values quoted, so a path or password is taken as written).</summary>
    public static string Render(ClusterConfig cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        var hocon = new StringBuilder();
        hocon.AppendLine(CultureInfo.InvariantCulture, $$"""
            akka {
              loglevel = INFO
              stdout-loglevel = WARNING
              log-dead-letters = off
              log-dead-letters-during-shutdown = off
              actor {
                provider = cluster
                serializers { ollama-proxy-fleet = "Router.Actors.Fleet.FleetSerializer, Router.Actors" }
                serialization-bindings { "Router.Actors.Fleet.IFleetMessage, Router.Actors" = ollama-proxy-fleet }
              }
              remote {
                log-remote-lifecycle-events = off
                dot-netty.tcp {
                  hostname = {{Quote(cluster.Hostname)}}
                  port = {{cluster.Port}}
                  # With TLS on, the certificate and the check of peers' certificates come from
                  # FleetTls (a DotNettySslSetup), not from an ssl { } block here.
                  enable-ssl = {{(cluster.Ssl.Enabled ? "on" : "off")}}
                  # The fleet's traffic is light (views, pings); batching would hold a ping back for
                  # up to tens of milliseconds and spoil the round trip routing adds to estimates.
                  batching.enabled = off
                }
              }
              cluster {
                roles = [{{string.Join(", ", cluster.Roles.Select(Quote))}}]
                log-info = off
                downing-provider-class = "Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster"
                split-brain-resolver {
                  active-strategy = {{cluster.SplitBrain.Strategy}}
                  stable-after = {{Millis(cluster.SplitBrain.StableAfter)}}
                  keep-oldest.down-if-alone = {{(cluster.SplitBrain.DownIfAlone ? "on" : "off")}}
                  # Akka downs every node when reachability keeps changing for a while. The fleet
                  # holds no shared state that a split could corrupt, so flapping (a loaded machine,
                  # a wobbly network) must not take the whole fleet down; the sides decide as usual.
                  down-all-when-unstable = off
                }
                failure-detector {
                  heartbeat-interval = {{Millis(cluster.FailureDetector.HeartbeatInterval)}}
                  acceptable-heartbeat-pause = {{Millis(cluster.FailureDetector.AcceptableHeartbeatPause)}}
                }
                # A downed node's fleet system stops; FleetNode starts a fresh one that joins again.
                run-coordinated-shutdown-when-down = on
              }
              coordinated-shutdown {
                run-by-clr-shutdown-hook = off
                exit-clr = off
              }
            }
            """);
        return hocon.ToString();
    }

    private static string Millis(TimeSpan duration) => ((long)Math.Max(1, duration.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture) + "ms";

    private static string Quote(string text) => "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
