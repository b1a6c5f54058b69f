using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Router.Actors.Backends;
using Router.Actors.Inference;

namespace Router.Gateway.Http;

/// <summary>
/// The streaming path: SSE for OpenAI clients, NDJSON for Ollama clients. Each event is written
/// and flushed before the next is read, so a slow client holds back the bounded channel and,
/// through it, the reads from the backend. Leaving by any route disposes the stream, which cancels
/// the backend call and frees its slot.
/// </summary>
internal sealed partial class InferenceEndpoint
{
    private static ReadOnlySpan<byte> SsePrefix => "data: "u8;
    private static ReadOnlySpan<byte> SseSuffix => "\n\n"u8;
    private static ReadOnlySpan<byte> SseDone => "data: [DONE]\n\n"u8;
    private static ReadOnlySpan<byte> NdjsonSuffix => "\n"u8;

    private async Task StreamAsync(HttpContext context, InferenceRequest request)
    {
        var aborted = context.RequestAborted;
        var started = await _router.StreamAsync(request, aborted).ConfigureAwait(false);
        if (!started.IsOk)
        {
            await FailAsync(context, request, started.Error).ConfigureAwait(false);
            return;
        }

        var stream = started.Value;
        await using (stream.ConfigureAwait(false))
        {
            var response = context.Response;
            RoutingHeaders.WriteDecision(response.Headers, stream.Decision);
            response.StatusCode = StatusCodes.Status200OK;
            response.Headers.CacheControl = "no-cache";
            if (_api.Flavor == ApiFlavor.OpenAI)
            {
                response.ContentType = "text/event-stream; charset=utf-8";
            }
            else
            {
                response.ContentType = "application/x-ndjson";
            }
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

            try
            {
                await PumpAsync(stream, response.BodyWriter, request, aborted).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (aborted.IsCancellationRequested)
            {
                // The client went away: disposing the stream (below) cancels the backend call.
                Log.ClientDisconnected(_logger, request.Hints.RequestId, _api.Path);
            }
        }
    }

    private async Task PumpAsync(IInferenceStream stream, PipeWriter body, InferenceRequest request, CancellationToken aborted)
    {
        var events = stream.Events;
        var sse = _api.Flavor == ApiFlavor.OpenAI;
        while (await events.WaitToReadAsync(aborted).ConfigureAwait(false))
        {
            while (events.TryRead(out var next))
            {
                switch (next)
                {
                    case StreamChunk chunk:
                        WriteFrame(body, chunk.Raw.Span, sse);
                        if (chunk.MoreFollows)
                        {
                            continue; // Already here: it goes out in the same flush.
                        }

                        break;
                    case StreamCompleted:
                        if (sse) body.Write(SseDone);
                        await body.FlushAsync(aborted).ConfigureAwait(false);
                        return;
                    case StreamFailed failed:
                        var error = HttpErrorMap.FromBackend(failed.Error);
                        Log.StreamFailed(_logger, request.Hints.RequestId, _api.Path, failed.Error.Message);
                        WriteFrame(body, error.ToJson(_api.Flavor), sse);
                        await body.FlushAsync(aborted).ConfigureAwait(false);
                        return;
                }

                // Flush each event (or burst) as it arrives; the next read waits until the client has taken it.
                var flushed = await body.FlushAsync(aborted).ConfigureAwait(false);
                if (flushed.IsCompleted || flushed.IsCanceled)
                {
                    Log.ClientDisconnected(_logger, request.Hints.RequestId, _api.Path);
                    return;
                }
            }
        }

        // The channel ended without its final event: the router broke its contract. Say so rather
        // than let the client take a truncated answer for a complete one.
        Log.StreamEndedEarly(_logger, request.Hints.RequestId, _api.Path);
        var truncated = new HttpError(502, HttpErrorMap.ServerError, "stream_truncated", "The backend stream ended without completing.");
        WriteFrame(body, truncated.ToJson(_api.Flavor), sse);
        await body.FlushAsync(aborted).ConfigureAwait(false);
    }

    private static void WriteFrame(PipeWriter body, ReadOnlySpan<byte> json, bool sse)
    {
        if (sse)
        {
            body.Write(SsePrefix);
            body.Write(json);
            body.Write(SseSuffix);
        }
        else
        {
            body.Write(json);
            body.Write(NdjsonSuffix);
        }
    }
}
