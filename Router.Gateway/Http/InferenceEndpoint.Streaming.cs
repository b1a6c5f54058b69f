using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Router.Actors.Backends;
using Router.Actors.Inference;

namespace Router.Gateway.Http;

/// <summary>
/// The streaming path: SSE for OpenAI clients, NDJSON for Ollama clients. The routed stream's
/// Akka.Streams source runs into a <see cref="ResponseWriter"/> with backpressure. Leaving by any
/// route ends the stream, which cancels the backend call and frees its slot.
/// </summary>
internal sealed partial class InferenceEndpoint
{
    private static ReadOnlySpan<byte> SsePrefix => "data: "u8;
    private static ReadOnlySpan<byte> SseSuffix => "\n\n"u8;
    private static ReadOnlySpan<byte> SseDone => "data: [DONE]\n\n"u8;
    private static ReadOnlySpan<byte> NdjsonSuffix => "\n"u8;

    private async Task StreamAsync(HttpContext context, InferenceRequest request, CancellationToken cancellationToken)
    {
        var aborted = context.RequestAborted;
        var started = await _router.StreamAsync(request, cancellationToken).ConfigureAwait(false);
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
            var sse = _api.Flavor == ApiFlavor.OpenAI;
            response.ContentType = sse ? "text/event-stream; charset=utf-8" : "application/x-ndjson";
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

            try
            {
                var outcome = await stream.WriteToAsync(new ResponseWriter(this, response.BodyWriter, request, sse), _materializer.Value, cancellationToken).ConfigureAwait(false);
                if (outcome == StreamOutcome.ClientGone)
                {
                    Log.ClientDisconnected(_logger, request.Hints.RequestId, _api.Path);
                }
            }
            catch (OperationCanceledException) when (aborted.IsCancellationRequested)
            {
                // The client went away: the stream's end cancelled the backend call and freed the slot.
                Log.ClientDisconnected(_logger, request.Hints.RequestId, _api.Path);
            }
            catch (OperationCanceledException) when (_drain?.Ending.IsCancellationRequested == true)
            {
                // The daemon's drain ran out mid-answer: the backend call is cancelled and its slot
                // freed; the client gets an error event (SSE) or line (NDJSON), not a reset.
                Log.StreamEndedByShutdown(_logger, request.Hints.RequestId, _api.Path);
                WriteFrame(response.BodyWriter, HttpErrorMap.ShuttingDown.ToJson(_api.Flavor), sse);
                await response.BodyWriter.FlushAsync(aborted).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Writes events as SSE (OpenAI) or NDJSON (Ollama). Each event, or burst of events that came in
    /// one read, is flushed before the next is taken: a slow client holds back the stream and,
    /// through it, the reads from the backend.
    /// </summary>
    private sealed class ResponseWriter(InferenceEndpoint endpoint, PipeWriter body, InferenceRequest request, bool sse) : IStreamEventWriter
    {
        public ValueTask<bool> WriteAsync(StreamEvent item, CancellationToken cancellationToken)
        {
            switch (item)
            {
                case StreamChunk chunk:
                    WriteFrame(body, chunk.Raw.Span, sse);
                    if (chunk.MoreFollows)
                    {
                        return new ValueTask<bool>(true); // The next one is here already: one flush for both.
                    }

                    break;
                case StreamCompleted:
                    if (sse)
                    {
                        body.Write(SseDone);
                    }

                    break;
                case StreamFailed failed:
                    Log.StreamFailed(endpoint._logger, request.Hints.RequestId, endpoint._api.Path, failed.Error.Message);
                    WriteFrame(body, HttpErrorMap.FromBackend(failed.Error).ToJson(endpoint._api.Flavor), sse);
                    break;
            }

            var flush = body.FlushAsync(cancellationToken);
            return flush.IsCompletedSuccessfully ? new ValueTask<bool>(Delivered(flush.Result)) : AwaitFlushAsync(flush);
        }

        public async ValueTask WriteTruncatedAsync(CancellationToken cancellationToken)
        {
            // The router broke its contract: say so rather than let the client take a truncated
            // answer for a complete one.
            Log.StreamEndedEarly(endpoint._logger, request.Hints.RequestId, endpoint._api.Path);
            var truncated = new HttpError(502, HttpErrorMap.ServerError, "stream_truncated", "The backend stream ended without completing.");
            WriteFrame(body, truncated.ToJson(endpoint._api.Flavor), sse);
            await body.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        private static async ValueTask<bool> AwaitFlushAsync(ValueTask<FlushResult> flush) => Delivered(await flush.ConfigureAwait(false));

        // A completed or cancelled pipe means the client is gone.
        private static bool Delivered(FlushResult result) => !result.IsCompleted && !result.IsCanceled;
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
