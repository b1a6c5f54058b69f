using System.Collections.Immutable;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;
using Router.Actors.Config;

namespace Router.Gateway.Http;

/// <summary>
/// Which web pages may call the router from a browser (<c>server.allowed-origins</c>), the way
/// Ollama guards its port: this machine's own pages always, others only when listed. A request
/// that carries a browser's <c>Origin</c> from anywhere else is refused with a 403 before it does
/// anything, so a web site the user happens to visit can neither run models on their devices nor
/// change the efficiency mode. Allowed origins get the CORS answers browsers need (preflight,
/// <c>Access-Control-Allow-Origin</c>, the routing headers exposed). Requests without an
/// <c>Origin</c> (SDKs, the CLI, curl) are not affected.
/// </summary>
internal sealed class BrowserOrigins
{
    /// <summary>What Ollama allows without configuration: pages served from this machine and local app shells.</summary>
    public static readonly ImmutableArray<string> Local =
    [
        "http://localhost", "https://localhost", "http://localhost:*", "https://localhost:*",
        "http://127.0.0.1", "https://127.0.0.1", "http://127.0.0.1:*", "https://127.0.0.1:*",
        "http://0.0.0.0", "https://0.0.0.0", "http://0.0.0.0:*", "https://0.0.0.0:*",
        "http://[::1]", "https://[::1]", "http://[::1]:*", "https://[::1]:*",
        "app://*", "file://*", "tauri://*", "vscode-webview://*", "vscode-file://*",
    ];

    private const string AllowedMethods = "GET, POST, HEAD, OPTIONS";
    // Long enough to spare a browser a preflight per request, short enough to follow a config change.
    private const string PreflightMaxAgeSeconds = "600";

    /// <summary>Routing headers a page's script may read (CORS hides all but a few by default).</summary>
    private static readonly string ExposedHeaders = string.Join(", ",
        RoutingHeaders.BackendUsed, RoutingHeaders.EstimatedLatencyMs, RoutingHeaders.EstimatedPowerW, RoutingHeaders.RoutingReason,
        RoutingHeaders.Alternatives, RoutingHeaders.RequestId, ModelEndpoints.UnloadedFromHeader, "Retry-After");

    private readonly ImmutableArray<string> _patterns;
    private readonly bool _anyOrigin;

    public BrowserOrigins(ImmutableArray<string> configured)
    {
        _patterns = [.. Local, .. configured.IsDefault ? [] : configured];
        _anyOrigin = _patterns.Contains("*");
    }

    /// <summary>
    /// Whether a page from <paramref name="origin"/> may call the router. The origin is parsed, not
    /// matched as text: it must be scheme://host[:port] and nothing else (no user name, path, query
    /// or fragment), so <c>http://localhost:@evil.example</c>, whose host is evil.example, cannot
    /// pass for <c>http://localhost:*</c>. The patterns are matched against its canonical form.
    /// </summary>
    public bool Allows(string origin)
    {
        if (_anyOrigin) return true;
        if (Canonical(origin) is not { } canonical) return false;
        foreach (var pattern in _patterns)
        {
            if (Matches(pattern, canonical)) return true;
        }

        return false;
    }

    /// <summary>
    /// scheme://host[:port] as a browser serializes an origin (RFC 6454 §6.1: lower case, the default
    /// port left out), or null when the text is not exactly an origin.
    /// </summary>
    internal static string? Canonical(string origin)
    {
        if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri)) return null;
        // Uri adds the path "/" to http(s) origins; anything the text holds past the authority is not an origin.
        var authorityEnd = origin.IndexOf("://", StringComparison.Ordinal) is var at and >= 0 ? at + 3 : -1;
        if (authorityEnd < 0 || origin.AsSpan(authorityEnd).IndexOfAny('/', '?', '#') >= 0) return null;
        if (uri.UserInfo.Length > 0 || uri.Host.Length == 0) return null;
        var port = uri.IsDefaultPort || uri.Port < 0 ? "" : ":" + uri.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return $"{uri.Scheme}://{uri.Host}{port}".ToLowerInvariant();
    }

    /// <summary>
    /// Case-insensitive; <c>*</c> stands for any run of characters, as in Ollama's list
    /// (<c>http://localhost:*</c>, <c>chrome-extension://*</c>).
    /// </summary>
    internal static bool Matches(ReadOnlySpan<char> pattern, ReadOnlySpan<char> origin)
    {
        var star = pattern.IndexOf('*');
        if (star < 0) return pattern.Equals(origin, StringComparison.OrdinalIgnoreCase);
        if (!origin.StartsWith(pattern[..star], StringComparison.OrdinalIgnoreCase)) return false;
        var rest = pattern[(star + 1)..];
        var tail = origin[star..];
        // The star takes 0, 1, 2 … characters; patterns hold one star, rarely two.
        for (var taken = 0; taken <= tail.Length; taken++)
        {
            if (Matches(rest, tail[taken..])) return true;
        }

        return false;
    }

    /// <summary>The middleware; null when the request may go on.</summary>
    public Task? Check(HttpContext context)
    {
        var request = context.Request;
        if (!request.Headers.TryGetValue("Origin", out StringValues values) || values.Count == 0)
        {
            return null;
        }

        // Browsers send one origin; a request with several (repeated headers, or a list as RFC 6454
        // §7 allows) may only go on when every one of them may.
        string? origin = null;
        foreach (var value in values)
        {
            foreach (var listed in (value ?? "").Split([' ', ','], StringSplitOptions.RemoveEmptyEntries))
            {
                if (!Allows(listed))
                {
                    return new HttpError(403, HttpErrorMap.InvalidRequest, "origin_not_allowed",
                            $"Web pages from {listed} may not use this router. To allow them, add \"{listed}\" to server.allowed-origins (or OLLAMA_ORIGINS).")
                        .WriteAsync(context, HttpError.FlavorOf(request.Path));
                }

                origin ??= listed;
            }
        }

        if (origin is null)
        {
            return null;
        }

        var headers = context.Response.Headers;
        headers.AccessControlAllowOrigin = origin;
        headers.Vary = "Origin";
        if (HttpMethods.IsOptions(request.Method) && request.Headers.ContainsKey("Access-Control-Request-Method"))
        {
            headers.AccessControlAllowMethods = AllowedMethods;
            // Whatever headers the page wants to send (Content-Type, Authorization, the routing hints).
            if (request.Headers.TryGetValue("Access-Control-Request-Headers", out var asked)) headers.AccessControlAllowHeaders = asked;
            headers.AccessControlMaxAge = PreflightMaxAgeSeconds;
            // Chrome asks before a public site may reach a private address (Private Network
            // Access); the user listed this origin, so the answer is yes.
            if (request.Headers.ContainsKey("Access-Control-Request-Private-Network")) headers["Access-Control-Allow-Private-Network"] = "true";
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return Task.CompletedTask;
        }

        headers.AccessControlExposeHeaders = ExposedHeaders;
        return null;
    }
}
