using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Http;
using Router.Actors.Routing;

namespace Router.Gateway.Http;

/// <summary>A hint that could not be read: the header (or WebSocket field) and what would be valid.</summary>
internal sealed record HintError(string Name, string Message);

/// <summary>The routing headers: request hints in, the decision out.</summary>
internal static class RoutingHeaders
{
    public const string TargetBackend = "X-Target-Backend";
    public const string LatencyCritical = "X-Latency-Critical";
    public const string PowerEfficient = "X-Power-Efficient";
    public const string MaxLatencyMs = "X-Max-Latency-Ms";
    public const string MaxPowerWatts = "X-Max-Power-Watts";
    public const string Priority = "X-Priority";
    public const string RequestId = "X-Request-ID";
    public const string MediaType = "X-Media-Type";

    public const string BackendUsed = "X-Backend-Used";
    public const string EstimatedLatencyMs = "X-Estimated-Latency-Ms";
    public const string EstimatedPowerW = "X-Estimated-Power-W";
    public const string RoutingReason = "X-Routing-Reason";
    public const string Alternatives = "X-Alternatives";

    /// <summary>Longest request id accepted; it is echoed in headers and logs.</summary>
    public const int MaxRequestIdLength = 128;

    /// <summary>Writes the decision on a routed answer. Called before the first byte of the body.</summary>
    public static void WriteDecision(IHeaderDictionary headers, RoutingDecision decision)
    {
        headers[BackendUsed] = decision.BackendId;
        if (Router.Actors.Fleet.FleetHeaders.NodeOf(decision.BackendId) is { } node)
        {
            headers[Router.Actors.Fleet.FleetHeaders.BackendNode] = node;
        }
        headers[EstimatedLatencyMs] = Number(decision.Estimate.LatencyMs);
        headers[EstimatedPowerW] = Number(decision.Estimate.PowerWatts);
        headers[RoutingReason] = decision.Reason;
        headers[Alternatives] = decision.Alternatives.IsDefaultOrEmpty ? ""
            : string.Join(',', ImmutableCollectionsMarshal.AsArray(decision.Alternatives)!);
    }

    // At most three decimals, like "0.###", but through the shortest round-trip formatting of the
    // rounded value: a custom format string costs several times more, on every routed answer.
    private static string Number(double value) =>
        Math.Round(value, 3, MidpointRounding.AwayFromZero).ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// Reads <see cref="RoutingHints"/> from request headers. The value parsers are shared with the
/// WebSocket fields, so a hint means the same whichever way it arrives.
/// </summary>
internal static class RoutingHintsParser
{
    public const string ValidBooleans = "true, false, 1 or 0";
    public static readonly string ValidPriorities = string.Join(", ", WireNames.PriorityNames) + ", or 0-3";

    /// <summary>
    /// Parses every hint header. An absent or empty header keeps the default; a header sent twice
    /// or with a value outside its range is an error naming the header and what is valid.
    /// When there is no X-Request-ID, one is generated so every answer can be traced.
    /// </summary>
    public static RoutingHints Parse(IHeaderDictionary headers, out HintError? error)
    {
        ArgumentNullException.ThrowIfNull(headers);
        error = null;
        var hints = RoutingHints.Default;

        if (Single(headers, RoutingHeaders.TargetBackend, ref error) is { } target)
        {
            hints = hints with { Target = target };
        }
        if (Single(headers, RoutingHeaders.LatencyCritical, ref error) is { } latencyCritical)
        {
            if (!TryParseBool(latencyCritical, out var value)) return Fail(RoutingHeaders.LatencyCritical, latencyCritical, ValidBooleans, out error);
            hints = hints with { LatencyCritical = value };
        }
        if (Single(headers, RoutingHeaders.PowerEfficient, ref error) is { } powerEfficient)
        {
            if (!TryParseBool(powerEfficient, out var value)) return Fail(RoutingHeaders.PowerEfficient, powerEfficient, ValidBooleans, out error);
            hints = hints with { PreferPowerEfficiency = value };
        }
        if (Single(headers, RoutingHeaders.MaxLatencyMs, ref error) is { } maxLatency)
        {
            if (!TryParseMaxLatency(maxLatency, out var value)) return Fail(RoutingHeaders.MaxLatencyMs, maxLatency, "a positive whole number of milliseconds", out error);
            hints = hints with { MaxLatencyMs = value };
        }
        if (Single(headers, RoutingHeaders.MaxPowerWatts, ref error) is { } maxPower)
        {
            if (!TryParseMaxPower(maxPower, out var value)) return Fail(RoutingHeaders.MaxPowerWatts, maxPower, "a positive number of watts", out error);
            hints = hints with { MaxPowerWatts = value };
        }
        if (Single(headers, RoutingHeaders.Priority, ref error) is { } priority)
        {
            if (!TryParsePriority(priority, out var value)) return Fail(RoutingHeaders.Priority, priority, ValidPriorities, out error);
            hints = hints with { Priority = value };
        }
        if (Single(headers, RoutingHeaders.MediaType, ref error) is { } mediaType)
        {
            hints = hints with { MediaType = mediaType };
        }
        // The fleet middleware let it through only with the shared secret (FleetForwarding).
        if (headers.ContainsKey(Router.Actors.Fleet.FleetHeaders.Hop))
        {
            hints = hints with { LocalOnly = true };
        }
        var requestId = Single(headers, RoutingHeaders.RequestId, ref error);
        if (requestId is not null && !IsValidRequestId(requestId))
        {
            return Fail(RoutingHeaders.RequestId, requestId, $"up to {RoutingHeaders.MaxRequestIdLength} visible ASCII characters", out error);
        }
        if (error is not null) return RoutingHints.Default;
        return hints with { RequestId = requestId ?? NewRequestId() };
    }

    /// <summary>
    /// A request id unique within this daemon's life and across restarts: a random per-process
    /// prefix and a counter, 32 hex digits like a GUID. Not a fresh GUID per request, which costs
    /// a read of the kernel's random source on every request.
    /// </summary>
    public static string NewRequestId() =>
        string.Create(32, Interlocked.Increment(ref s_requestCounter), static (chars, counter) =>
        {
            s_requestIdPrefix.TryFormat(chars, out _, "x16", CultureInfo.InvariantCulture);
            counter.TryFormat(chars[16..], out _, "x16", CultureInfo.InvariantCulture);
        });

    private static readonly ulong s_requestIdPrefix = (ulong)Random.Shared.NextInt64() ^ ((ulong)Environment.ProcessId << 48);
    private static long s_requestCounter;

    public static bool TryParseBool(string value, out bool result)
    {
        var trimmed = value.AsSpan().Trim();
        if (trimmed.Equals("true", StringComparison.OrdinalIgnoreCase) || trimmed.SequenceEqual("1"))
        {
            result = true;
            return true;
        }
        if (trimmed.Equals("false", StringComparison.OrdinalIgnoreCase) || trimmed.SequenceEqual("0"))
        {
            result = false;
            return true;
        }
        result = false;
        return false;
    }

    public static bool TryParseMaxLatency(string value, out int result) =>
        int.TryParse(value.AsSpan().Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out result) && result > 0;

    public static bool TryParseMaxPower(string value, out double result) =>
        double.TryParse(value.AsSpan().Trim(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out result)
        && double.IsFinite(result) && result > 0;

    /// <summary>Names (any case, with '-', '_' or nothing between words) or the numbers 0-3 of the public contract.</summary>
    public static bool TryParsePriority(string value, out Priority result) => WireNames.TryParsePriority(value, out result);

    public static bool IsValidRequestId(string value)
    {
        if (value.Length is 0 or > RoutingHeaders.MaxRequestIdLength) return false;
        foreach (var c in value)
        {
            if (c is < '!' or > '~') return false;
        }
        return true;
    }

    private static string? Single(IHeaderDictionary headers, string name, ref HintError? error)
    {
        if (!headers.TryGetValue(name, out var values)) return null;
        if (values.Count > 1)
        {
            error ??= new HintError(name, $"{name} was sent {values.Count} times; send it once.");
            return null;
        }
        var value = values.ToString().Trim();
        return value.Length == 0 ? null : value;
    }

    private static RoutingHints Fail(string name, string value, string valid, out HintError error)
    {
        error = new HintError(name, $"{name} has the invalid value '{Printable(value)}'; use {valid}.");
        return RoutingHints.Default;
    }

    private static string Printable(string value) => value.Length <= 64 ? value : string.Concat(value.AsSpan(0, 64), "…");
}
