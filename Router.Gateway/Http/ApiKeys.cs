using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Router.Gateway.Http;

/// <summary>
/// The keys of <c>server.api-keys</c> and the one check every surface makes with them. A client
/// presents a key as <c>Authorization: Bearer &lt;key&gt;</c> (HTTP, the WebSocket handshake, gRPC
/// metadata); a browser's WebSocket, which cannot set headers, offers it as the subprotocol
/// <c>bearer.&lt;key&gt;</c> beside <see cref="WebSocketProtocol"/>. A query parameter is not
/// accepted: URLs end up in logs, histories and Referer headers.
/// </summary>
internal sealed class ApiKeys
{
    /// <summary>The subprotocol the router selects on the WebSocket, so the key is never echoed back.</summary>
    public const string WebSocketProtocol = "ollama-proxy";
    /// <summary>A subprotocol that carries a key: <c>bearer.&lt;key&gt;</c>.</summary>
    public const string WebSocketKeyPrefix = "bearer.";

    /// <summary>What <c>WWW-Authenticate</c> says (RFC 6750 §3).</summary>
    private const string Challenge = "Bearer realm=\"ollama-proxy\"";

    private readonly ImmutableArray<byte[]> _hashes;

    public ApiKeys(ImmutableArray<string> keys)
    {
        _hashes = keys.IsDefaultOrEmpty ? [] : [.. keys.Select(static key => SHA256.HashData(Encoding.UTF8.GetBytes(key)))];
    }

    /// <summary>Whether any key is configured; without one, every request may go on.</summary>
    public bool Required => !_hashes.IsEmpty;

    /// <summary>What a request presented.</summary>
    public enum Verdict
    {
        Allowed,
        Missing,
        Invalid,
    }

    /// <summary>
    /// Whether <paramref name="candidate"/> is one of the keys. Both sides are hashed first, so the
    /// comparison takes the same time whatever the lengths, and every key is compared, so the time
    /// does not tell which one matched or how much of one did.
    /// </summary>
    public bool IsKey(string candidate)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(candidate), hash);
        var match = false;
        foreach (var key in _hashes)
        {
            match |= CryptographicOperations.FixedTimeEquals(hash, key);
        }

        return match;
    }

    /// <summary>Checks the key a request presents: the Authorization header, else a WebSocket subprotocol.</summary>
    public Verdict Check(HttpRequest request)
    {
        if (!Required) return Verdict.Allowed;
        var candidate = Presented(request, out var ambiguous);
        if (ambiguous) return Verdict.Invalid;
        if (candidate is null) return Verdict.Missing;
        return IsKey(candidate) ? Verdict.Allowed : Verdict.Invalid;
    }

    private static string? Presented(HttpRequest request, out bool ambiguous)
    {
        ambiguous = false;
        var authorization = request.Headers.Authorization;
        if (authorization.Count > 1)
        {
            ambiguous = true;
            return null;
        }

        if (authorization.Count == 1)
        {
            var value = authorization[0].AsSpan().Trim();
            if (!value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                ambiguous = true;
                return null;
            }

            return value["Bearer ".Length..].Trim().ToString();
        }

        foreach (var offered in request.Headers.GetCommaSeparatedValues(HeaderNames.SecWebSocketProtocol))
        {
            if (offered.StartsWith(WebSocketKeyPrefix, StringComparison.Ordinal)) return offered[WebSocketKeyPrefix.Length..];
        }

        return null;
    }

    /// <summary>The 401 for a request without a valid key, in the caller's format, with the challenge.</summary>
    public static Task RefuseAsync(HttpContext context, Verdict verdict)
    {
        context.Response.Headers.WWWAuthenticate = verdict == Verdict.Invalid ? Challenge + ", error=\"invalid_token\"" : Challenge;
        return Refusal(verdict).WriteAsync(context, HttpError.FlavorOf(context.Request.Path));
    }

    /// <summary>Why the request was refused and how to present a key, for every surface.</summary>
    public static HttpError Refusal(Verdict verdict) => verdict == Verdict.Invalid
        ? new HttpError(401, HttpErrorMap.InvalidRequest, "invalid_api_key",
            "The API key is not valid: send one of the keys in the router's server.api-keys as 'Authorization: Bearer <key>'.")
        : new HttpError(401, HttpErrorMap.InvalidRequest, "missing_api_key",
            "This router needs an API key: send 'Authorization: Bearer <key>' (OpenAI SDKs: apiKey; Ollama clients: an Authorization header; "
            + "a browser's WebSocket: the subprotocols 'ollama-proxy' and 'bearer.<key>'). The keys are in the router's server.api-keys.");
}
