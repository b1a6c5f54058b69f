using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Logging;

namespace Router.Gateway.Grpc;

/// <summary>
/// Runs one gRPC call over one HTTP/2 request: checks the request against PROTOCOL-HTTP2.md,
/// sets up deadline and cancellation, runs the method and ends with grpc-status. Every status
/// leaves the server through <see cref="CompleteAsync"/>, the one place that chooses between
/// trailers and a Trailers-Only response.
/// </summary>
internal sealed partial class GrpcDispatcher(
    GrpcServiceRegistry registry,
    GrpcServerOptions options,
    TimeProvider timeProvider,
    ILogger<GrpcDispatcher> logger,
    CancellationToken stopping = default)
{
    /// <summary>Largest timeout a CancellationTokenSource takes; longer deadlines are treated as none.</summary>
    private static readonly TimeSpan MaxTimerDelay = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    public GrpcServiceRegistry Registry => registry;

    /// <summary>The catch-all route: a gRPC request for a path no method answers.</summary>
    public Task DispatchUnknownAsync(HttpContext http)
    {
        // Not a gRPC request at all: not ours to answer.
        if (!GrpcProtocol.IsGrpcContentType(http.Request.ContentType))
        {
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        return DispatchAsync(http, method: null);
    }

    public async Task DispatchAsync(HttpContext http, GrpcMethod? method)
    {
        var request = http.Request;
        var response = http.Response;

        // 1. HTTP/2 only. A listener that also speaks HTTP/1.1 still gets a clear refusal here.
        if (!HttpProtocol.IsHttp2(request.Protocol))
        {
            Log.WrongProtocol(logger, request.Protocol, request.Path);
            response.StatusCode = StatusCodes.Status426UpgradeRequired;
            response.Headers.Connection = "close";
            response.ContentType = "text/plain; charset=utf-8";
            await response.WriteAsync($"gRPC requires HTTP/2; this request came over {request.Protocol}.\n", http.RequestAborted).ConfigureAwait(false);
            return;
        }

        // 2. "If Content-Type does not begin with application/grpc, gRPC servers SHOULD respond with HTTP status 415."
        if (!GrpcProtocol.IsGrpcProtoContentType(request.ContentType))
        {
            response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            response.ContentType = "text/plain; charset=utf-8";
            await response.WriteAsync($"Content-Type '{request.ContentType}' is not supported; use application/grpc.\n", http.RequestAborted).ConfigureAwait(false);
            return;
        }

        response.ContentType = GrpcProtocol.ContentType;
        response.Headers[GrpcProtocol.AcceptEncodingHeader] = GrpcCompression.Supported;

        // 3. Message encoding of the request: identity or gzip, anything else UNIMPLEMENTED
        //    with the encodings we accept (doc/compression.md).
        string? requestEncoding = request.Headers[GrpcProtocol.EncodingHeader];
        if (!GrpcCompression.IsIdentity(requestEncoding) && !GrpcCompression.IsGzip(requestEncoding))
        {
            await CompleteAsync(http, null, new GrpcStatus(GrpcStatusCode.Unimplemented,
                $"Unsupported grpc-encoding '{requestEncoding}'; supported: {GrpcCompression.Supported}.")).ConfigureAwait(false);
            return;
        }

        // 4. Unknown service or method.
        if (method is null)
        {
            var path = request.Path.Value ?? "";
            await CompleteAsync(http, null, new GrpcStatus(GrpcStatusCode.Unimplemented, UnimplementedMessage(path))).ConfigureAwait(false);
            return;
        }

        var compressResponses = GrpcCompression.ShouldCompressResponse(requestEncoding, request.Headers[GrpcProtocol.AcceptEncodingHeader]);
        if (compressResponses)
        {
            response.Headers[GrpcProtocol.EncodingHeader] = GrpcCompression.Gzip;
        }

        // Limits are per message, checked by the framing; a long stream may carry more in total
        // than the HTTP body limit, and a quiet client stream is not a slow-loris attack.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = null;
        }

        if (http.Features.Get<IHttpMinRequestBodyDataRateFeature>() is { } dataRate)
        {
            dataRate.MinDataRate = null;
        }

        // 5. Deadline: grpc-timeout starts a timer on the same token that client cancellation
        //    (RST_STREAM → RequestAborted) fires.
        TimeSpan? timeout = null;
        if (GrpcTimeout.TryParse(request.Headers[GrpcProtocol.TimeoutHeader], out var parsed) && parsed <= MaxTimerDelay)
        {
            timeout = parsed;
        }

        using var cancellation = timeout is { } t
            ? new CancellationTokenSource(t, timeProvider)
            : new CancellationTokenSource();
        using var abortRegistration = http.RequestAborted.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), cancellation);
        // Long-lived streams (Watch, WatchState) end when the host stops, instead of holding up shutdown.
        using var stopRegistration = stopping.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), cancellation);
        DateTimeOffset? deadline = timeout is { } d ? timeProvider.GetUtcNow() + d : null;

        var context = new GrpcCallContext(http, method.Path, deadline, cancellation.Token);
        var call = new GrpcServerCall(http, options, context, GrpcCompression.IsGzip(requestEncoding), compressResponses);

        // 6. Run, then map the outcome to one status.
        GrpcStatus status;
        try
        {
            await method.InvokeAsync(call).ConfigureAwait(false);
            status = GrpcStatus.Ok;
        }
        catch (Exception ex) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client reset the stream or went away: nobody to send a status to.
            Log.CallCancelled(logger, method.Path, ex.GetType().Name);
            return;
        }
        catch (Exception) when (stopping.IsCancellationRequested && cancellation.IsCancellationRequested)
        {
            status = new GrpcStatus(GrpcStatusCode.Unavailable, "The server is shutting down.");
        }
        catch (Exception) when (timeout is not null && cancellation.IsCancellationRequested)
        {
            Log.DeadlineExceeded(logger, method.Path, timeout.Value.TotalMilliseconds);
            status = new GrpcStatus(GrpcStatusCode.DeadlineExceeded, "Deadline exceeded.");
        }
        catch (GrpcStatusException ex)
        {
            status = ex.Status;
        }
        catch (Exception ex)
        {
            // Internals stay in the log; the client learns only that the server failed.
            Log.HandlerFailed(logger, method.Path, ex);
            status = new GrpcStatus(GrpcStatusCode.Internal, "The server failed to handle the call.");
        }

        if (status.Code != GrpcStatusCode.OK && !call.ResponseStarted)
        {
            // A failed call must not leave a half-written message before Trailers-Only.
            response.Headers.Remove(GrpcProtocol.EncodingHeader);
        }

        await CompleteAsync(http, call, status).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends the status: as trailers after the messages, or, when no message was written, as
    /// Trailers-Only (one HEADERS frame with END_STREAM carrying grpc-status).
    /// </summary>
    internal static Task CompleteAsync(HttpContext http, GrpcServerCall? call, GrpcStatus status)
    {
        var response = http.Response;
        var code = ((int)status.Code).ToString(CultureInfo.InvariantCulture);
        var message = string.IsNullOrEmpty(status.Detail) ? null : GrpcPercentEncoding.Encode(status.Detail);

        if (call is null || !call.ResponseStarted)
        {
            response.ContentType = GrpcProtocol.ContentType;
            response.Headers[GrpcProtocol.StatusTrailer] = code;
            if (message is not null)
            {
                response.Headers[GrpcProtocol.MessageTrailer] = message;
            }

            return Task.CompletedTask;
        }

        response.AppendTrailer(GrpcProtocol.StatusTrailer, code);
        if (message is not null)
        {
            response.AppendTrailer(GrpcProtocol.MessageTrailer, message);
        }

        return Task.CompletedTask;
    }

    private string UnimplementedMessage(string path)
    {
        // "/Service/Method": tell an unknown service from an unknown method of a known one.
        var slash = path.LastIndexOf('/');
        var service = slash > 0 ? path[1..slash] : path.TrimStart('/');
        foreach (var known in registry.Services)
        {
            if (string.Equals(known, service, StringComparison.Ordinal))
            {
                return $"Method is unimplemented: {path}.";
            }
        }

        return $"Service is unimplemented: {service}.";
    }
}
