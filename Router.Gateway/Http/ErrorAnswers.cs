using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Router.Telemetry.Metrics;

namespace Router.Gateway.Http;

/// <summary>
/// Every error answer of the HTTP port, as <see cref="HttpError.WriteAsync"/> writes it: counted by
/// status and code (<c>ollama_proxy.http.errors</c>), and logged at most once per code per
/// <see cref="LogInterval"/>, the line saying how many there were since the last one. Under
/// overload every request may be a 429, and a client may send broken uploads in a loop; the count
/// is in the metrics, the log keeps a line a while per kind.
/// </summary>
internal sealed partial class ErrorAnswers
{
    internal static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(30);

    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly RouterMetrics? _metrics;
    private readonly ConcurrentDictionary<string, Tally> _byCode = new(StringComparer.Ordinal);

    public ErrorAnswers(ILogger logger, TimeProvider time, RouterMetrics? metrics)
    {
        _logger = logger;
        _time = time;
        _metrics = metrics;
    }

    public void Record(HttpContext context, HttpError error)
    {
        _metrics?.RecordHttpError(error.Status, error.Code);
        var tally = _byCode.GetOrAdd(error.Code, static _ => new Tally());
        long count;
        TimeSpan since;
        lock (tally)
        {
            tally.Count++;
            var now = _time.GetTimestamp();
            if (tally.LoggedAt is { } last && _time.GetElapsedTime(last, now) < LogInterval) return;
            count = tally.Count;
            since = tally.LoggedAt is { } previous ? _time.GetElapsedTime(previous, now) : TimeSpan.Zero;
            tally.Count = 0;
            tally.LoggedAt = now;
        }

        var path = context.Request.Path.Value ?? "/";
        if (error.Status >= 500)
        {
            Log.ErrorAnswersServer(_logger, count, error.Status, error.Code, (long)since.TotalSeconds, context.Request.Method, path, error.Message);
        }
        else
        {
            Log.ErrorAnswers(_logger, count, error.Status, error.Code, (long)since.TotalSeconds, context.Request.Method, path, error.Message);
        }
    }

    private sealed class Tally
    {
        public long Count;
        public long? LoggedAt;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4030, Level = LogLevel.Information,
            Message = "{Count} request(s) answered {Status} ({Code}) in the last {Seconds} s; the latest, {Method} {Path}: {Reason}")]
        public static partial void ErrorAnswers(ILogger logger, long count, int status, string code, long seconds, string method, string path, string reason);

        [LoggerMessage(EventId = 4031, Level = LogLevel.Warning,
            Message = "{Count} request(s) answered {Status} ({Code}) in the last {Seconds} s; the latest, {Method} {Path}: {Reason}")]
        public static partial void ErrorAnswersServer(ILogger logger, long count, int status, string code, long seconds, string method, string path, string reason);
    }
}
