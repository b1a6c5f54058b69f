using System.Buffers;
using System.Text.Json;
using Router.Actors.Inference;
using Router.Actors.Routing;

namespace Router.Gateway.Http.WebSockets;

/// <summary>
/// The server's frames: <c>{request_id, token, ttft_ms}</c> per token, then
/// <c>{request_id, done, stats, backend_used, routing}</c>; or <c>{request_id, error, code}</c>;
/// or <c>{request_id, cancelled}</c> after a cancel. One writer per request, reused across frames.
/// </summary>
internal sealed class ResponseFrames
{
    private readonly string _requestId;
    private readonly ArrayBufferWriter<byte> _buffer = new(256);
    private readonly Utf8JsonWriter _writer;

    public ResponseFrames(string requestId)
    {
        _requestId = requestId;
        _writer = new Utf8JsonWriter(_buffer, HttpError.ReadableJson);
    }

    /// <summary>The frame's bytes are valid until the next call: the caller sends them before building another.</summary>
    public ReadOnlyMemory<byte> Token(string text, double? timeToFirstTokenMs)
    {
        var writer = Begin();
        writer.WriteString("token", text);
        if (timeToFirstTokenMs is { } ttft) writer.WriteNumber("ttft_ms", Math.Round(ttft, 3));
        return End();
    }

    public ReadOnlyMemory<byte> Done(GenerationStats stats, RoutingDecision decision)
    {
        var writer = Begin();
        writer.WriteBoolean("done", true);
        writer.WriteStartObject("stats");
        writer.WriteNumber("time_to_first_token_ms", Math.Round(stats.TimeToFirstTokenMs, 3));
        writer.WriteNumber("total_time_ms", Math.Round(stats.TotalTimeMs, 3));
        writer.WriteNumber("tokens_generated", stats.TokensGenerated);
        writer.WriteNumber("tokens_per_second", Math.Round(stats.TokensPerSecond, 3));
        writer.WriteNumber("energy_wh", stats.EnergyWh);
        writer.WriteEndObject();
        writer.WriteString("backend_used", decision.BackendId);
        writer.WriteStartObject("routing");
        writer.WriteString("backend", decision.BackendId);
        writer.WriteString("reason", decision.Reason);
        writer.WriteStartArray("alternatives");
        foreach (var alternative in decision.Alternatives) writer.WriteStringValue(alternative);
        writer.WriteEndArray();
        writer.WriteNumber("estimated_latency_ms", decision.Estimate.LatencyMs);
        writer.WriteNumber("estimated_power_w", decision.Estimate.PowerWatts);
        writer.WriteEndObject();
        return End();
    }

    public static ReadOnlyMemory<byte> Error(string requestId, HttpError error)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, HttpError.ReadableJson))
        {
            writer.WriteStartObject();
            writer.WriteString("request_id", requestId);
            writer.WriteString("error", error.Message);
            writer.WriteNumber("code", error.Status);
            writer.WriteString("type", error.Code);
            if (error.RetryAfter is { } retry) writer.WriteNumber("retry_after_ms", Math.Ceiling(retry.TotalMilliseconds));
            writer.WriteEndObject();
        }
        return buffer.WrittenMemory;
    }

    public static ReadOnlyMemory<byte> Cancelled(string requestId)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var writer = new Utf8JsonWriter(buffer, HttpError.ReadableJson))
        {
            writer.WriteStartObject();
            writer.WriteString("request_id", requestId);
            writer.WriteBoolean("cancelled", true);
            writer.WriteEndObject();
        }
        return buffer.WrittenMemory;
    }

    private Utf8JsonWriter Begin()
    {
        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
        _writer.WriteStartObject();
        _writer.WriteString("request_id", _requestId);
        return _writer;
    }

    private ReadOnlyMemory<byte> End()
    {
        _writer.WriteEndObject();
        _writer.Flush();
        return _buffer.WrittenMemory;
    }
}
