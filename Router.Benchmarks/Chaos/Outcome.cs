using System.Collections.Concurrent;
using System.Globalization;
using Grpc.Core;

namespace Router.Benchmarks.Chaos;

/// <summary>How one request ended, as its client saw it.</summary>
internal enum Verdict
{
    /// <summary>The whole answer: a body, the stream's end marker, the done frame, gRPC OK.</summary>
    Served,
    /// <summary>An error the README documents for the situation, in the caller's protocol (429, 503 with Retry-After, a stream's error event …).</summary>
    DocumentedError,
    /// <summary>A 500, an error frame with code 500, gRPC INTERNAL or UNKNOWN: the router failed.</summary>
    ServerError,
    /// <summary>No clean end: a reset, a stream that stopped without its end or an error, the deadline passed, or an answer no document describes.</summary>
    Lost,
}

/// <param name="What">The error code (documented errors), or what went wrong.</param>
internal readonly record struct Outcome(Verdict Verdict, string What)
{
    public static readonly Outcome Served = new(Verdict.Served, "served");

    public static Outcome Documented(string code) => new(Verdict.DocumentedError, code);

    public static Outcome Lost(string why) => new(Verdict.Lost, why);

    public static Outcome Failed(string why) => new(Verdict.ServerError, why);
}

/// <summary>
/// The errors the README documents for requests that are fine in themselves: what a client may be
/// answered instead of its result when backends fail, queues fill or the daemon stops.
/// </summary>
internal static class DocumentedErrors
{
    /// <summary>OpenAI-format codes (and WebSocket error frame types) by HTTP status.</summary>
    private static readonly Dictionary<int, string[]> Codes = new()
    {
        [429] = ["queue_full", "too_many_requests"],
        [503] =
        [
            "no_healthy_backend", "latency_budget_exceeded", "power_budget_exceeded", "excluded_by_mode",
            "too_hot", "unavailable", "preempted", "shutting_down",
        ],
        // README: "404 when no healthy backend holds the model".
        [404] = ["model_not_found"],
        // A backend that failed every attempt, or failed after the first byte (the stream's error event).
        [502] = ["backend_error", "stream_truncated"],
    };

    /// <summary>Statuses that must say when to retry (README: "503 with Retry-After", "429 with Retry-After").</summary>
    public static bool NeedsRetryAfter(int status) => status is 429 or 503;

    /// <summary>An HTTP error answer: documented if its status and code are; a 500 is the router's failure.</summary>
    public static Outcome Classify(int status, string? code, bool hasRetryAfter)
    {
        if (status >= 500 && !Codes.ContainsKey(status))
        {
            return Outcome.Failed($"{status} {code}");
        }

        if (!Codes.TryGetValue(status, out var codes))
        {
            return Outcome.Lost($"undocumented {status} {code}");
        }

        // Ollama-format answers carry no code: the status says which documented case it is.
        if (code is not null && !codes.Contains(code))
        {
            return Outcome.Lost($"undocumented {status} {code}");
        }

        if (NeedsRetryAfter(status) && !hasRetryAfter)
        {
            return Outcome.Lost($"{status} {code} without Retry-After");
        }

        return Outcome.Documented(code ?? status.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>5xx statuses that are documented answers (a backend failed, the router cannot serve now), not the router's failure.</summary>
    public static bool IsGatewayStatus(int status) => status >= 500 && Codes.ContainsKey(status);

    /// <summary>An error event (SSE) or error frame (WebSocket) by its code alone.</summary>
    public static Outcome ClassifyCode(string code)
    {
        foreach (var (_, codes) in Codes)
        {
            if (codes.Contains(code)) return Outcome.Documented(code);
        }

        return code == "internal_error" ? Outcome.Failed(code) : Outcome.Lost("undocumented error code " + code);
    }

    /// <summary>A gRPC status other than OK (README's gRPC errors).</summary>
    public static Outcome ClassifyGrpc(StatusCode status) => status switch
    {
        StatusCode.Unavailable or StatusCode.ResourceExhausted or StatusCode.NotFound
            => Outcome.Documented("grpc " + status),
        StatusCode.Internal or StatusCode.Unknown => Outcome.Failed("grpc " + status),
        StatusCode.DeadlineExceeded or StatusCode.Cancelled => Outcome.Lost("grpc " + status + " (deadline passed)"),
        _ => Outcome.Lost("undocumented grpc " + status),
    };
}

/// <summary>Outcomes counted by verdict and by what, safe to add to from many requests at once.</summary>
internal sealed class Tally
{
    private readonly ConcurrentDictionary<(Verdict, string), int> _counts = new();
    private readonly ConcurrentDictionary<string, ConcurrentBag<double>> _latencies = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _examples = new();

    public void Add(Outcome outcome, string group, double milliseconds, string? example = null)
    {
        _counts.AddOrUpdate((outcome.Verdict, outcome.What), 1, static (_, n) => n + 1);
        _latencies.GetOrAdd(group, static _ => new ConcurrentBag<double>()).Add(milliseconds);
        if (outcome.Verdict is Verdict.Lost or Verdict.ServerError && _examples.Count < 20)
        {
            _examples.Enqueue($"{group}: {outcome.What}{(example is null ? "" : " — " + example)}");
        }
    }

    public int Count(Verdict verdict) => _counts.Where(c => c.Key.Item1 == verdict).Sum(c => c.Value);

    public int Total => _counts.Sum(c => c.Value);

    public int CountWhat(Verdict verdict, string what) => _counts.TryGetValue((verdict, what), out var n) ? n : 0;

    /// <summary>"queue_full 12, no_healthy_backend 3" for one verdict, most frequent first.</summary>
    public string Breakdown(Verdict verdict)
    {
        var parts = _counts.Where(c => c.Key.Item1 == verdict).OrderByDescending(c => c.Value).Select(c => $"{c.Key.Item2} {c.Value}").ToList();
        return parts.Count == 0 ? "none" : string.Join(", ", parts);
    }

    public IEnumerable<string> Examples => _examples;

    /// <summary>p50 / p99 / max in ms of one group, e.g. a priority.</summary>
    public string Latency(string group)
    {
        if (!_latencies.TryGetValue(group, out var bag) || bag.IsEmpty) return "-";
        var sorted = bag.ToArray();
        Array.Sort(sorted);
        double P(double q) => sorted[Math.Min(sorted.Length - 1, (int)(q * sorted.Length))];
        return FormattableString.Invariant($"{P(0.5):F0} / {P(0.99):F0} / {sorted[^1]:F0} ms (n={sorted.Length})");
    }
}
