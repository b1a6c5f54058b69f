using System.Collections.Immutable;
using System.Net;
using Microsoft.AspNetCore.Http;

namespace Router.Gateway.Http;

/// <summary>
/// The names a client may reach the router by (the Host header), as Ollama checks them: DNS
/// rebinding points a web site's own name at this machine, so its page's requests arrive with that
/// site's name as the Host, and a browser then lets the page read the answers (they are "same
/// origin"). Such a name is refused with a 403, and <c>/backends</c>, <c>/metrics</c> and the rest
/// stay unreadable to it. Allowed: localhost and <c>*.localhost</c> (which resolve to this machine
/// only), this machine's own name, any IP address (rebinding needs a name), and
/// <c>server.allowed-hosts</c> (<c>router.lan</c>, <c>*.example.com</c>, or <c>*</c> for any).
/// </summary>
internal sealed class HostNames
{
    private readonly ImmutableArray<string> _configured;
    private readonly string _machine;
    private readonly bool _anyHost;

    public HostNames(ImmutableArray<string> configured, string? machineName = null)
    {
        _configured = configured.IsDefault ? [] : configured;
        _anyHost = _configured.Contains("*");
        _machine = machineName ?? Dns.GetHostName();
    }

    /// <summary>Whether a request for <paramref name="host"/> (the Host header's name, without the port) may go on.</summary>
    public bool Allows(string host)
    {
        if (_anyHost || host.Length == 0) return true;
        var name = host.TrimEnd('.');
        if (IPAddress.TryParse(name.Trim('[', ']'), out _)) return true;
        if (name.Equals("localhost", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)) return true;
        if (name.Equals(_machine, StringComparison.OrdinalIgnoreCase)) return true;
        foreach (var pattern in _configured)
        {
            if (pattern.StartsWith("*.", StringComparison.Ordinal)
                ? name.EndsWith(pattern.AsSpan(1), StringComparison.OrdinalIgnoreCase)
                : name.Equals(pattern, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The middleware; null when the request may go on.</summary>
    public Task? Check(HttpContext context)
    {
        var host = context.Request.Host.Host;
        if (Allows(host)) return null;
        return new HttpError(403, HttpErrorMap.InvalidRequest, "host_not_allowed",
                $"This router does not answer to the name '{host}': use localhost, an IP address or a name in server.allowed-hosts. "
                + $"If you reach it by this name, add \"{host}\" to server.allowed-hosts.")
            .WriteAsync(context, HttpError.FlavorOf(context.Request.Path));
    }
}
