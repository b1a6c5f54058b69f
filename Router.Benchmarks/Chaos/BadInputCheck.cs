using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using Router.Gateway.Grpc.Contracts.Compute;

namespace Router.Benchmarks.Chaos;

/// <summary>
/// Check 3: the bad-input corpus (<see cref="BadInputCorpus"/>) on every surface. Never a 500 (on
/// the WebSocket an error frame with code 500 or a close 1011, on gRPC UNKNOWN or the router's own
/// INTERNAL), never a connection dropped without an answer, never a crash. A bad request on a
/// WebSocket gets its error frame while the socket's other request streams on. Afterwards the
/// daemon runs and no backend was ejected for the requests' faults.
/// </summary>
internal static class BadInputCheck
{
    /// <summary>
    /// Generous: a case that asks for a huge answer (max_tokens 1e9) is served up to the model's
    /// context, which on a loaded 2-core machine took more than 20 s; the check is for an answer, not its speed.
    /// </summary>
    private static readonly TimeSpan CaseLimit = TimeSpan.FromSeconds(60);
    private const int Parallel = 8;

    /// <summary>WebSocket close codes that say the client broke the protocol (RFC 6455 §7.4.1).</summary>
    private static readonly WebSocketCloseStatus[] ProtocolCloses =
    [
        WebSocketCloseStatus.InvalidMessageType, WebSocketCloseStatus.InvalidPayloadData,
        WebSocketCloseStatus.PolicyViolation, WebSocketCloseStatus.MessageTooBig, WebSocketCloseStatus.ProtocolError,
    ];

    public static async Task<bool> RunAsync(ChaosDaemon daemon, ChaosClients clients, ChaosOptions options)
    {
        _ = options;
        var errorsBefore = daemon.ErrorLines;
        var stateBefore = await StateAsync(clients.Http).ConfigureAwait(false);
        var failures = new ConcurrentQueue<string>();
        var answers = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        void Count(string answer) => answers.AddOrUpdate(answer, 1, static (_, n) => n + 1);

        var clock = Stopwatch.StartNew();
        var lap = Stopwatch.StartNew();
        var laps = new List<string>();
        void Lap(string surface)
        {
            laps.Add(FormattableString.Invariant($"{surface} {lap.Elapsed.TotalSeconds:0.0} s"));
            lap.Restart();
        }

        var http = BadInputCorpus.Http(daemon.Http.Port).ToList();
        await ForEachAsync(http, async item =>
        {
            var (status, body) = await RawExchangeAsync(daemon.Http.Port, item).ConfigureAwait(false);
            if (status is null && item.AnswerOfAnotherProtocol && body.Length > 0)
            {
                Count("HTTP answered in another protocol");
                return;
            }

            if (status is null && item.HalfClose)
            {
                Count("HTTP closed on the client's FIN");
                return;
            }

            if (status is null || status == 500)
            {
                failures.Enqueue($"HTTP {item.Name}: {(status is null ? "no answer" : "500")} {ChaosClients.Shorten(body)}");
            }
            else if (status >= 400 && !item.HeadOnly && !IsErrorBody(body) && !KestrelRefusedBeforeTheRouter(body))
            {
                failures.Enqueue($"HTTP {item.Name}: {status} without an error message: {ChaosClients.Shorten(body)}");
            }

            Count($"HTTP {status?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}");
        }).ConfigureAwait(false);

        Lap("HTTP");
        // Two at a time: each case holds a slot for its bystander and may need one for its bad
        // request, and the daemon has four.
        var sockets = BadInputCorpus.WebSocket().ToList();
        await ForEachAsync(sockets, parallel: 2, async item =>
        {
            var (verdict, answer) = await WebSocketCaseAsync(daemon.Http, item).ConfigureAwait(false);
            if (verdict is not null) failures.Enqueue($"WebSocket {item.Name}: {verdict}");
            Count("WebSocket " + answer);
        }).ConfigureAwait(false);

        Lap("WebSocket");
        var calls = BadInputCorpus.GrpcCalls().ToList();
        var efficiency = new EfficiencyService.EfficiencyServiceClient(clients.Channel);
        await ForEachAsync(calls, async item =>
        {
            string answer;
            try
            {
                await item.Call(clients.Compute, efficiency, DateTime.UtcNow + CaseLimit).ConfigureAwait(false);
                answer = "OK";
            }
            catch (RpcException e)
            {
                answer = e.StatusCode.ToString();
                if (IsServerError(e.StatusCode, e.Status.Detail)) failures.Enqueue($"gRPC {item.Name}: {e.StatusCode} {e.Status.Detail}");
            }

            Count("gRPC " + answer);
        }).ConfigureAwait(false);

        using var h2 = new HttpClient(new SocketsHttpHandler { UseProxy = false, EnableMultipleHttp2Connections = true }) { Timeout = CaseLimit };
        var raw = BadInputCorpus.GrpcRaw().ToList();
        await ForEachAsync(raw, async item =>
        {
            var (answer, failure) = await RawGrpcAsync(h2, daemon.Grpc, item).ConfigureAwait(false);
            if (failure is not null) failures.Enqueue($"gRPC {item.Name}: {failure}");
            Count("gRPC " + answer);
        }).ConfigureAwait(false);

        Lap("gRPC");
        var total = http.Count + sockets.Count + calls.Count + raw.Count;
        Console.WriteLine(FormattableString.Invariant(
            $"{total} bad inputs in {clock.Elapsed.TotalSeconds:0.0} s: {http.Count} HTTP requests (bodies, fields, headers, framing, methods, queries on every path), {sockets.Count} WebSocket frames (beside a streaming request), {calls.Count} gRPC calls with bad fields, {raw.Count} hand-written gRPC requests ({string.Join(", ", laps)})"));
        Console.WriteLine("  answers: " + string.Join(", ", answers.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $"{a.Key} ×{a.Value}")));

        // The requests' faults must not have cost the devices anything, and the daemon still serves.
        var (settled, _, states) = await BackendFaultsCheck.WaitForRestAsync(clients.Http, TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        var ejected = states.Where(s => s.Health is "ejected" or "unhealthy").Select(s => $"{s.Id} {s.Health}").ToList();
        var served = await clients.SendAsync(new ChaosRequest(-1, RequestKind.ChatStream, 1, 8, false, CaseLimit)).ConfigureAwait(false);
        var errorLines = daemon.ErrorLines - errorsBefore;
        Console.WriteLine($"afterwards: daemon {(daemon.HasExited ? "EXITED" : "running")}, {errorLines} error lines in its log, backends {string.Join(", ", states.Select(s => $"{s.Id} {s.Health}"))}, a fine request {served[0].What}");
        // Bad input changes nothing: not the mode, not a simulated device's temperature.
        var stateAfter = await StateAsync(clients.Http).ConfigureAwait(false);
        Console.WriteLine($"  mode before {stateBefore.Mode} (in effect {stateBefore.EffectiveMode}), after {stateAfter.Mode} (in effect {stateAfter.EffectiveMode}); devices over their limit: {(stateAfter.OverLimit.Count == 0 ? "none" : string.Join(", ", stateAfter.OverLimit))}");
        if (stateAfter.Mode != stateBefore.Mode) failures.Enqueue($"the bad input changed the mode from {stateBefore.Mode} to {stateAfter.Mode}");
        foreach (var device in stateAfter.OverLimit) failures.Enqueue("the bad input left a device over its temperature limit: " + device);
        foreach (var line in daemon.ErrorSamples())
        {
            Console.WriteLine("  log: " + line);
        }

        foreach (var failure in failures.Take(40))
        {
            Console.WriteLine("  ! " + failure);
        }

        Console.WriteLine($"  500s, dropped connections, crashes: {failures.Count}");
        return failures.IsEmpty && !daemon.HasExited && settled && ejected.Count == 0 && served[0].Verdict == Verdict.Served;
    }

    /// <summary>The mode set and in effect (GET /efficiency), and the devices over their temperature limit (GET /thermal).</summary>
    private static async Task<(string Mode, string EffectiveMode, List<string> OverLimit)> StateAsync(HttpClient http)
    {
        using var efficiency = JsonDocument.Parse(await http.GetStringAsync(new Uri("/efficiency", UriKind.Relative)).ConfigureAwait(false));
        using var thermal = JsonDocument.Parse(await http.GetStringAsync(new Uri("/thermal", UriKind.Relative)).ConfigureAwait(false));
        var overLimit = thermal.RootElement.GetProperty("backends").EnumerateObject()
            .Where(b => b.Value.GetProperty("state").GetString() == "over-limit")
            .Select(b => $"{b.Name} at {b.Value.GetProperty("temperature_c")} °C").ToList();
        return (efficiency.RootElement.GetProperty("mode").GetString()!, efficiency.RootElement.GetProperty("effective_mode").GetString()!, overLimit);
    }

    private static Task ForEachAsync<T>(IEnumerable<T> items, Func<T, Task> run) => ForEachAsync(items, Parallel, run);

    private static async Task ForEachAsync<T>(IEnumerable<T> items, int parallel, Func<T, Task> run) =>
        await System.Threading.Tasks.Parallel.ForEachAsync(items, new ParallelOptions { MaxDegreeOfParallelism = parallel }, async (item, _) => await run(item).ConfigureAwait(false)).ConfigureAwait(false);

    /// <summary>UNKNOWN (a handler threw) or the router's own INTERNAL: gRPC's 500. The library's INTERNAL for a message it cannot parse or inflate is the spec's answer.</summary>
    private static bool IsServerError(StatusCode status, string detail) =>
        status == StatusCode.Unknown || (status == StatusCode.Internal && detail.StartsWith("The router failed", StringComparison.Ordinal));

    /// <summary>An error answer a client can read: OpenAI's <c>{"error":{"message"}}</c> or Ollama's <c>{"error":"…"}</c>.</summary>
    private static bool IsErrorBody(string answer)
    {
        var head = answer.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (head < 0) return false;
        try
        {
            using var document = JsonDocument.Parse(answer[(head + 4)..]);
            var error = document.RootElement.GetProperty("error");
            return error.ValueKind == JsonValueKind.String ? error.GetString()!.Length > 0 : error.GetProperty("message").GetString()!.Length > 0;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>
    /// Kestrel answers a request it cannot parse (a bad request line or header, broken framing) with
    /// an empty 400 before any router code runs: that is the HTTP server's answer, not the router's.
    /// </summary>
    private static bool KestrelRefusedBeforeTheRouter(string body) =>
        body.Contains("Content-Length: 0", StringComparison.OrdinalIgnoreCase) && !body.Contains("application/json", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Sends the raw bytes and reads the answer: until the server closes (every case asks for
    /// Connection: close), or, for a 200, only its head (a stream that started is all that matters).
    /// </summary>
    private static async Task<(int? Status, string Answer)> RawExchangeAsync(int port, HttpCase item)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var limit = new CancellationTokenSource(CaseLimit);
        var received = new MemoryStream();
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), limit.Token).ConfigureAwait(false);
            var sending = SendAllAsync(socket, item, limit.Token);
            var buffer = new byte[16 * 1024];
            while (true)
            {
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, limit.Token).ConfigureAwait(false);
                if (read == 0) break;
                received.Write(buffer, 0, read);
                var text = Encoding.Latin1.GetString(received.GetBuffer(), 0, (int)received.Length);
                if (text.StartsWith("HTTP/1.1 200", StringComparison.Ordinal) && text.Contains("\r\n\r\n", StringComparison.Ordinal)) break;
            }

            try
            {
                await sending.ConfigureAwait(false);
            }
            catch (SocketException)
            {
                // The server answered (say 413 or 431) and closed before taking all of a large request.
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            if (received.Length == 0) return (null, e is OperationCanceledException ? "no answer within the limit" : e.Message);
        }

        var answer = Encoding.Latin1.GetString(received.GetBuffer(), 0, (int)received.Length);
        var space = answer.IndexOf(' ', StringComparison.Ordinal);
        return answer.StartsWith("HTTP/1.", StringComparison.Ordinal) && space > 0 && int.TryParse(answer.AsSpan(space + 1, 3), out var status)
            ? (status, answer)
            : (null, answer.Length == 0 ? "connection closed with no answer" : answer);
    }

    private static async Task SendAllAsync(Socket socket, HttpCase item, CancellationToken cancellationToken)
    {
        await socket.SendAsync(item.Request, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        if (item.HalfClose) socket.Shutdown(SocketShutdown.Send);
    }

    /// <summary>
    /// Opens a socket, starts a long request (the bystander), sends the bad frames once it streams,
    /// and reads until the bad request is answered and the bystander has gone on (a frame after
    /// that answer, or its own done frame), or the socket closed. Returns what went wrong (null if nothing) and what the
    /// router answered.
    /// </summary>
    private static async Task<(string? Failure, string Answer)> WebSocketCaseAsync(Uri http, SocketCase item)
    {
        using var socket = new ClientWebSocket();
        using var limit = new CancellationTokenSource(CaseLimit);
        string? badEnd = null;
        var sent = false;
        var bystanderAfter = false;
        try
        {
            await socket.ConnectAsync(ChaosClients.WebSocketUri(http), limit.Token).ConfigureAwait(false);
            await socket.SendAsync("""{"request_id":"bg","model":"llama3.2:1b","prompt":"the bystander","options":{"num_predict":20000,"num_ctx":32768}}"""u8.ToArray(), WebSocketMessageType.Text, true, limit.Token).ConfigureAwait(false);
            while (true)
            {
                var (type, text) = await ChaosClients.ReceiveAsync(socket, limit.Token).ConfigureAwait(false);
                if (type == WebSocketMessageType.Close) break;
                using var document = JsonDocument.Parse(text);
                var frame = document.RootElement;
                var id = frame.GetProperty("request_id").GetString();
                var isError = frame.TryGetProperty("error", out _);
                if (isError && frame.GetProperty("code").GetInt32() == 500) return ($"an error frame with code 500: {text}", "500");
                if (id == "bg" && !sent)
                {
                    if (isError || frame.TryGetProperty("done", out _)) return ($"the bystander ended before the bad frame went out: {text}", "none");
                    // The bystander streams: now the bad frames.
                    foreach (var (frameType, payload) in item.Frames)
                    {
                        await socket.SendAsync(payload, frameType, true, limit.Token).ConfigureAwait(false);
                    }

                    sent = true;
                    continue;
                }

                // The duplicate's error frame carries the bystander's id: it is told apart by its type,
                // so the bystander may finish before or after it.
                var answersTheBadRequest = id == item.RequestId
                    && (id != "bg" || (isError && frame.TryGetProperty("type", out var errorType) && errorType.GetString() == "duplicate_request_id"));
                if (answersTheBadRequest && badEnd is null && (isError || frame.TryGetProperty("done", out _)))
                {
                    badEnd = isError ? frame.GetProperty("code").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture) : "done";
                }
                else if (id == "bg")
                {
                    if (isError) return ($"the bystander failed: {text}", badEnd ?? "none");
                    // It goes on: a frame after the bad request's answer, or its whole answer.
                    if (badEnd is not null || item.Expect == SocketExpectation.Nothing || frame.TryGetProperty("done", out _)) bystanderAfter = true;
                }

                if (bystanderAfter && (badEnd is not null || item.Expect == SocketExpectation.Nothing))
                {
                    await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", limit.Token).ConfigureAwait(false);
                    return (item.Expect == SocketExpectation.Close ? "the socket stayed open: the frame was taken as a request" : null, badEnd ?? "nothing");
                }
            }
        }
        catch (WebSocketException e)
        {
            return ($"the socket broke without a close: {ChaosClients.Describe(e)}", "abort");
        }
        catch (OperationCanceledException)
        {
            return ($"no answer within {CaseLimit.TotalSeconds:0} s (bad request: {badEnd ?? "none"}, bystander went on: {bystanderAfter})", "timeout");
        }

        var close = socket.CloseStatus;
        var answer = "close " + (close is { } c ? ((int)c).ToString(System.Globalization.CultureInfo.InvariantCulture) : "none");
        if (item.Expect != SocketExpectation.Close)
        {
            return ($"the socket closed ({close} {socket.CloseStatusDescription}) instead of answering the bad request alone", answer);
        }

        return close is { } status && ProtocolCloses.Contains(status)
            ? (null, answer)
            : ($"closed with {close} '{socket.CloseStatusDescription}', not a protocol error", answer);
    }

    /// <summary>A hand-written gRPC request over HTTP/2; the status comes from the trailers (or the headers of a trailers-only answer).</summary>
    private static async Task<(string Answer, string? Failure)> RawGrpcAsync(HttpClient h2, Uri grpc, GrpcRawCase item)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(grpc, item.Path))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(item.Body),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        foreach (var (name, value) in item.Headers)
        {
            if (name == "content-type") request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(value);
            else request.Headers.TryAddWithoutValidation(name, value);
        }

        try
        {
            using var response = await h2.SendAsync(request).ConfigureAwait(false);
            _ = await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
            if ((int)response.StatusCode >= 500) return ($"HTTP {(int)response.StatusCode}", $"HTTP {(int)response.StatusCode}");
            var status = Header(response, "grpc-status");
            var message = Uri.UnescapeDataString(Header(response, "grpc-message") ?? "");
            if (status is null) return ($"HTTP {(int)response.StatusCode}", (int)response.StatusCode == 200 ? "no grpc-status" : null);
            var code = (StatusCode)int.Parse(status, System.Globalization.CultureInfo.InvariantCulture);
            return (code.ToString(), IsServerError(code, message) ? $"{code} {message}" : null);
        }
        catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.HttpProtocolError)
        {
            // The server reset the stream for breaking HTTP/2 (a header block over its limit): an answer in HTTP/2's own terms.
            return ("stream reset", null);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return ("no answer", ChaosClients.Describe(e));
        }
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.TrailingHeaders.TryGetValues(name, out var values) || response.Headers.TryGetValues(name, out values) ? values.FirstOrDefault() : null;
}
