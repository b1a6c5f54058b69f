using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Router.Actors.Config;
using Router.Actors.Fleet;

namespace Router.Gateway.Http;

/// <summary>
/// Guards requests a fleet peer forwarded (those with the hop header): they must carry the fleet's
/// shared secret, or they are refused before any routing: 401 without it, 403 with a wrong one or
/// when this router is not in a fleet. Accepted ones are routed to this node's own backends only
/// (<see cref="Router.Actors.Routing.RoutingHints.LocalOnly"/>, read with the other hints).
/// </summary>
internal sealed class FleetForwarding
{
    /// <summary>Set on a request a fleet peer forwarded with the right secret: the secret stands for the API key.</summary>
    internal const string AuthenticatedItem = "ollama-proxy.fleet-forwarded";

    private readonly byte[]? _secret;

    public FleetForwarding(ClusterConfig cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        _secret = cluster.Enabled && cluster.SharedSecret.Length > 0 ? Encoding.UTF8.GetBytes(cluster.SharedSecret) : null;
    }

    /// <summary>Null when the request may go on; else the refusal to write.</summary>
    public HttpError? Check(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!request.Headers.ContainsKey(FleetHeaders.Hop))
        {
            return null;
        }

        if (_secret is null)
        {
            return new HttpError(403, HttpErrorMap.InvalidRequest, "not_in_fleet",
                $"This router is not part of a fleet (cluster.enabled = false), so it takes no forwarded requests; send the request without {FleetHeaders.Hop}.");
        }

        if (!request.Headers.TryGetValue(FleetHeaders.Secret, out var given) || given.Count != 1 || string.IsNullOrEmpty(given[0]))
        {
            return new HttpError(401, HttpErrorMap.InvalidRequest, "fleet_secret_missing",
                $"A forwarded request ({FleetHeaders.Hop}) must carry the fleet's shared secret in {FleetHeaders.Secret}; set the same cluster.shared-secret on every node.");
        }

        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given[0]!), _secret)
            ? null
            : new HttpError(403, HttpErrorMap.InvalidRequest, "fleet_secret_wrong",
                $"The fleet secret in {FleetHeaders.Secret} does not match this node's cluster.shared-secret; set the same secret on every node.");
    }
}

public static class FleetForwardingMiddleware
{
    /// <summary>Call before the surfaces are mapped; reads <see cref="RouterConfig"/> from the container.</summary>
    public static IApplicationBuilder UseFleetForwarding(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var guard = new FleetForwarding(app.ApplicationServices.GetRequiredService<RouterConfig>().Cluster);
        return app.Use((context, next) =>
        {
            if (guard.Check(context.Request) is { } refusal)
            {
                return refusal.WriteAsync(context, HttpError.FlavorOf(context.Request.Path));
            }

            if (context.Request.Headers.ContainsKey(FleetHeaders.Hop))
            {
                context.Items[FleetForwarding.AuthenticatedItem] = true;
            }

            return next(context);
        });
    }
}
