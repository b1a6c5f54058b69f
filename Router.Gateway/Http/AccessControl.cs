using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Router.Actors.Config;

namespace Router.Gateway.Http;

/// <summary>
/// Who may use the router, checked before any endpoint runs. On the HTTP port, in order: the Host
/// header (<see cref="HostNames"/>: 403), the browser's Origin (<see cref="BrowserOrigins"/>: 403,
/// and CORS preflights answered, since a browser sends no key with them), then the API key
/// (<see cref="ApiKeys"/>: 401). On the gRPC port, the API key only, answered as gRPC.
/// </summary>
public static class AccessControl
{
    /// <summary>Call before the surfaces are mapped; reads <see cref="RouterConfig"/> from the container.</summary>
    public static IApplicationBuilder UseAccessControl(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var server = app.ApplicationServices.GetRequiredService<RouterConfig>().Server;
        var hosts = new HostNames(server.AllowedHosts);
        var origins = new BrowserOrigins(server.AllowedOrigins);
        var keys = new ApiKeys(server.ApiKeys);
        return app.Use((context, next) =>
        {
            // A fleet peer's forwarded request, its secret checked already (FleetForwarding): a
            // server-to-server call, addressed to this node's address, with no browser and no key.
            if (context.Items.ContainsKey(FleetForwarding.AuthenticatedItem)) return next(context);
            if (hosts.Check(context) is { } hostRefused) return hostRefused;
            if (origins.Check(context) is { } originAnswered) return originAnswered;
            var verdict = keys.Check(context.Request);
            return verdict == ApiKeys.Verdict.Allowed ? next(context) : ApiKeys.RefuseAsync(context, verdict);
        });
    }

    /// <summary>
    /// The API key check in front of a gRPC app, whatever serves the calls behind it: a call
    /// without a valid key in its <c>authorization</c> metadata gets a trailers-only answer with
    /// status 16 (UNAUTHENTICATED) and a message saying how to send one.
    /// </summary>
    public static IApplicationBuilder UseGrpcAccessControl(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var keys = new ApiKeys(app.ApplicationServices.GetRequiredService<RouterConfig>().Server.ApiKeys);
        if (!keys.Required) return app;
        return app.Use((context, next) =>
        {
            var verdict = keys.Check(context.Request);
            if (verdict == ApiKeys.Verdict.Allowed) return next(context);

            // gRPC over HTTP/2: status 200, and the call's status in the headers of a response
            // with no body (the whole answer is one HEADERS frame), which every client reads.
            var response = context.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "application/grpc";
            response.Headers["grpc-status"] = GrpcUnauthenticated;
            response.Headers["grpc-message"] = PercentEncode(verdict == ApiKeys.Verdict.Invalid
                ? "The API key is not valid: send one of the router's server.api-keys as the metadata 'authorization: Bearer <key>'."
                : "This router needs an API key: send the metadata 'authorization: Bearer <key>' (the keys are in the router's server.api-keys).");
            return Task.CompletedTask;
        });
    }

    private const string GrpcUnauthenticated = "16";

    /// <summary>grpc-message is percent-encoded: every byte outside printable ASCII, and '%' itself.</summary>
    private static string PercentEncode(string message)
    {
        var encoded = new StringBuilder(message.Length);
        foreach (var b in Encoding.UTF8.GetBytes(message))
        {
            if (b is >= 0x20 and <= 0x7E and not (byte)'%') encoded.Append((char)b);
            else encoded.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }

        return encoded.ToString();
    }
}
