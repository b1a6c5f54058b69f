using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using Router.Gateway.Grpc.Contracts.Compute;

namespace Router.Benchmarks.Chaos;

/// <summary>What a request of the mixed load is.</summary>
internal enum RequestKind
{
    /// <summary>OpenAI chat completion, whole answer.</summary>
    Chat,
    /// <summary>OpenAI chat completion streamed (SSE).</summary>
    ChatStream,
    /// <summary>Ollama /api/generate, streamed (NDJSON) or whole.</summary>
    Generate,
    /// <summary>OpenAI /v1/embeddings or Ollama /api/embed.</summary>
    Embeddings,
    /// <summary>Two requests on one socket of /v1/stream/ws.</summary>
    WebSocket,
    /// <summary>compute.v1 Generate, GenerateStream, ChatStream or Embed over Grpc.Net.Client.</summary>
    Grpc,
}

/// <summary>One request to send: what, at which priority, how long an answer, and when its client gives up.</summary>
/// <param name="UntilServerCloses">WebSocket: after its requests, wait for the router to close the socket (at shutdown) instead of closing it.</param>
internal sealed record ChaosRequest(int Number, RequestKind Kind, int Priority, int MaxTokens, bool Variant, TimeSpan Deadline, bool UntilServerCloses = false)
{
    public static readonly string[] PriorityNames = ["best-effort", "normal", "high", "critical"];

    public string PriorityName => PriorityNames[Priority];
}

/// <summary>
/// The real clients of every surface, speaking to one daemon: HttpClient (JSON, SSE, NDJSON),
/// ClientWebSocket and Grpc.Net.Client with the stubs generated from protos/. Each call returns how
/// the request ended as its client saw it; none throws.
/// </summary>
internal sealed class ChaosClients : IDisposable
{
    public const string Model = "llama3.2:1b";
    public const string SmallModel = "qwen2.5:0.5b";
    public const string EmbeddingModel = "nomic-embed-text";

    /// <summary>What a request whose connection was refused is lost for: only after the daemon stopped listening is that a clean end.</summary>
    public const string ConnectionRefused = "connection refused";

    /// <summary>
    /// What a request is lost for when its connection was reset or closed before any byte of an
    /// answer. Once the daemon stops, that is a clean "not started": connections the kernel had
    /// accepted for the listener but the server had not taken yet are reset when the listener
    /// closes, and a connection the server closes as it stops may cross a request on its way in.
    /// </summary>
    public const string ResetBeforeAnswer = "connection closed before any answer";

    private static bool IsReset(HttpRequestException e) =>
        e.HttpRequestError == HttpRequestError.ResponseEnded
        || e.InnerException is IOException { InnerException: System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.ConnectionReset } }
        || e.InnerException is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.ConnectionReset };

    private readonly Uri _http;
    private readonly HttpClient _client;
    private readonly GrpcChannel _channel;
    private readonly ComputeService.ComputeServiceClient _compute;

    public ChaosClients(Uri http, Uri grpc)
    {
        _http = http;
        _client = new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
            MaxConnectionsPerServer = int.MaxValue,
        })
        {
            BaseAddress = http,
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _channel = GrpcChannel.ForAddress(grpc, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { UseProxy = false, EnableMultipleHttp2Connections = true },
            MaxRetryAttempts = 0,
        });
        _compute = new ComputeService.ComputeServiceClient(_channel);
    }

    public HttpClient Http => _client;

    public Uri HttpEndpoint => _http;

    public ComputeService.ComputeServiceClient Compute => _compute;

    public GrpcChannel Channel => _channel;

    /// <summary>Sends one request of the mixed load; one outcome per request (two for a WebSocket item).</summary>
    public async Task<IReadOnlyList<Outcome>> SendAsync(ChaosRequest request)
    {
        using var deadline = new CancellationTokenSource(request.Deadline);
        try
        {
            return request.Kind switch
            {
                RequestKind.Chat => [await ChatAsync(request, stream: false, deadline.Token).ConfigureAwait(false)],
                RequestKind.ChatStream => [await ChatAsync(request, stream: true, deadline.Token).ConfigureAwait(false)],
                RequestKind.Generate => [await GenerateAsync(request, deadline.Token).ConfigureAwait(false)],
                RequestKind.Embeddings => [await EmbeddingsAsync(request, deadline.Token).ConfigureAwait(false)],
                RequestKind.WebSocket => await WebSocketAsync(request, deadline.Token).ConfigureAwait(false),
                RequestKind.Grpc => [await GrpcAsync(request).ConfigureAwait(false)],
                _ => throw new ArgumentOutOfRangeException(nameof(request)),
            };
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            return Enumerable.Repeat(Outcome.Lost("deadline passed"), request.Kind == RequestKind.WebSocket ? 2 : 1).ToList();
        }
    }

    private static string Prompt(ChaosRequest request) => $"chaos request {request.Number}: tell me about the weather";

    private HttpRequestMessage Post(string path, string json, ChaosRequest request)
    {
        var message = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        message.Headers.Add("X-Priority", request.PriorityName);
        message.Headers.Add("X-Request-ID", "chaos-" + request.Number.ToString(CultureInfo.InvariantCulture));
        return message;
    }

    private async Task<Outcome> ChatAsync(ChaosRequest request, bool stream, CancellationToken deadline)
    {
        var model = request.Variant ? SmallModel : Model;
        var json = $$"""{"model":"{{model}}","messages":[{"role":"user","content":"{{Prompt(request)}}"}],"max_tokens":{{request.MaxTokens}},"stream":{{(stream ? "true" : "false")}}}""";
        using var message = Post("/v1/chat/completions", json, request);
        return await ExchangeAsync(message, stream ? ReadSseAsync : ReadChatAsync, deadline).ConfigureAwait(false);
    }

    private async Task<Outcome> GenerateAsync(ChaosRequest request, CancellationToken deadline)
    {
        // Ollama streams unless told not to: the variant asks for the whole answer.
        var json = $$"""{"model":"{{Model}}","prompt":"{{Prompt(request)}}","options":{"num_predict":{{request.MaxTokens}}}{{(request.Variant ? ",\"stream\":false" : "")}}}""";
        using var message = Post("/api/generate", json, request);
        return await ExchangeAsync(message, request.Variant ? ReadOllamaWholeAsync : ReadNdjsonAsync, deadline).ConfigureAwait(false);
    }

    private async Task<Outcome> EmbeddingsAsync(ChaosRequest request, CancellationToken deadline)
    {
        var (path, json) = request.Variant
            ? ("/api/embed", $$"""{"model":"{{EmbeddingModel}}","input":["{{Prompt(request)}}","second"]}""")
            : ("/v1/embeddings", $$"""{"model":"{{EmbeddingModel}}","input":"{{Prompt(request)}}"}""");
        using var message = Post(path, json, request);
        return await ExchangeAsync(message, ReadEmbeddingAsync, deadline).ConfigureAwait(false);
    }

    /// <summary>Sends, then reads a 200 with <paramref name="readBody"/>; any other status is classified from its error body.</summary>
    public async Task<Outcome> ExchangeAsync(HttpRequestMessage message, Func<Stream, CancellationToken, Task<Outcome>> readBody, CancellationToken deadline)
    {
        HttpResponseMessage response;
        try
        {
            response = await _client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, deadline).ConfigureAwait(false);
        }
        catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.ConnectionError && e.InnerException is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.ConnectionRefused })
        {
            return Outcome.Lost(ConnectionRefused);
        }
        catch (HttpRequestException e) when (IsReset(e))
        {
            return Outcome.Lost(ResetBeforeAnswer);
        }
        catch (HttpRequestException e)
        {
            return Outcome.Lost("no answer: " + Describe(e));
        }

        using (response)
        {
            try
            {
                await using var body = await response.Content.ReadAsStreamAsync(deadline).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return await readBody(body, deadline).ConfigureAwait(false);
                }

                return await ReadErrorAsync(response, body, deadline).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or HttpRequestException)
            {
                return Outcome.Lost("reset mid-answer: " + e.Message);
            }
        }
    }

    /// <summary>An error answer: its status, and the code of an OpenAI-format body (Ollama's has none).</summary>
    public static async Task<Outcome> ReadErrorAsync(HttpResponseMessage response, Stream body, CancellationToken deadline)
    {
        var text = await new StreamReader(body).ReadToEndAsync(deadline).ConfigureAwait(false);
        string? code = null;
        try
        {
            using var document = JsonDocument.Parse(text);
            var error = document.RootElement.GetProperty("error");
            if (error.ValueKind == JsonValueKind.Object) code = error.GetProperty("code").GetString();
            else if (error.ValueKind != JsonValueKind.String) return Outcome.Lost($"{(int)response.StatusCode} with an error of the wrong shape: {text}");
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return (int)response.StatusCode >= 500 && !DocumentedErrors.IsGatewayStatus((int)response.StatusCode)
                ? Outcome.Failed($"{(int)response.StatusCode} with no error body")
                : Outcome.Lost($"{(int)response.StatusCode} without an error body: {Shorten(text)}");
        }

        return DocumentedErrors.Classify((int)response.StatusCode, code, response.Headers.RetryAfter is not null);
    }

    private static async Task<Outcome> ReadChatAsync(Stream body, CancellationToken deadline)
    {
        using var document = await JsonDocument.ParseAsync(body, cancellationToken: deadline).ConfigureAwait(false);
        return document.RootElement.GetProperty("choices")[0].GetProperty("message").TryGetProperty("content", out _)
            ? Outcome.Served
            : Outcome.Lost("a chat answer without content");
    }

    private static async Task<Outcome> ReadOllamaWholeAsync(Stream body, CancellationToken deadline)
    {
        using var document = await JsonDocument.ParseAsync(body, cancellationToken: deadline).ConfigureAwait(false);
        return document.RootElement.TryGetProperty("done", out var done) && done.ValueKind == JsonValueKind.True
            ? Outcome.Served
            : Outcome.Lost("a whole Ollama answer without done");
    }

    private static async Task<Outcome> ReadEmbeddingAsync(Stream body, CancellationToken deadline)
    {
        using var document = await JsonDocument.ParseAsync(body, cancellationToken: deadline).ConfigureAwait(false);
        var root = document.RootElement;
        var vector = root.TryGetProperty("data", out var data) ? data[0].GetProperty("embedding") : root.GetProperty("embeddings")[0];
        return vector.GetArrayLength() > 0 ? Outcome.Served : Outcome.Lost("an empty embedding");
    }

    /// <summary>SSE: events until <c>data: [DONE]</c> (served) or an error event followed by the end of the body.</summary>
    public static async Task<Outcome> ReadSseAsync(Stream body, CancellationToken deadline)
    {
        using var reader = new StreamReader(body);
        Outcome? failed = null;
        while (await reader.ReadLineAsync(deadline).ConfigureAwait(false) is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
            var data = line.AsSpan(6);
            if (data.SequenceEqual("[DONE]"))
            {
                return failed ?? (await reader.ReadLineAsync(deadline).ConfigureAwait(false) is "" or null ? Outcome.Served : Outcome.Lost("data after [DONE]"));
            }

            if (data.Contains("\"error\"", StringComparison.Ordinal))
            {
                using var document = JsonDocument.Parse(data.ToString());
                if (document.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
                {
                    failed = DocumentedErrors.ClassifyCode(error.GetProperty("code").GetString() ?? "");
                }
            }
        }

        return failed ?? Outcome.Lost("the SSE stream ended without [DONE] or an error event");
    }

    /// <summary>NDJSON: lines until one with <c>"done": true</c> (served) or an error line, then the end of the body.</summary>
    public static async Task<Outcome> ReadNdjsonAsync(Stream body, CancellationToken deadline)
    {
        using var reader = new StreamReader(body);
        Outcome? ended = null;
        while (await reader.ReadLineAsync(deadline).ConfigureAwait(false) is { } line)
        {
            if (line.Length == 0) continue;
            if (ended is not null) return Outcome.Lost("a line after the end of the NDJSON stream");
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            if (root.TryGetProperty("error", out var error))
            {
                ended = Outcome.Documented("ndjson error: " + FirstWords(error.GetString()));
            }
            else if (root.TryGetProperty("done", out var done) && done.ValueKind == JsonValueKind.True)
            {
                ended = Outcome.Served;
            }
        }

        return ended ?? Outcome.Lost("the NDJSON stream ended without done or an error line");
    }

    /// <summary>
    /// Opens a socket and runs two requests on it at once (one streamed, one whole), then closes it
    /// normally. Each request must end with its done frame or an error frame.
    /// </summary>
    private async Task<IReadOnlyList<Outcome>> WebSocketAsync(ChaosRequest request, CancellationToken deadline)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        try
        {
            await socket.ConnectAsync(WebSocketUri(_http), deadline).ConfigureAwait(false);
        }
        catch (WebSocketException) when (socket.HttpStatusCode == HttpStatusCode.ServiceUnavailable)
        {
            // The daemon is stopping: the upgrade is refused like any request it will not start.
            return [Outcome.Documented("503 on upgrade"), Outcome.Documented("503 on upgrade")];
        }
        catch (WebSocketException e)
        {
            var why = e.InnerException is HttpRequestException { InnerException: System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.ConnectionRefused } }
                ? ConnectionRefused
                : e.InnerException is HttpRequestException inner && IsReset(inner) ? ResetBeforeAnswer
                : "no WebSocket: " + Describe(e);
            return [Outcome.Lost(why), Outcome.Lost(why)];
        }

        var ids = new[] { $"{request.Number}-a", $"{request.Number}-b" };
        var frames = new[]
        {
            $$"""{"request_id":"{{ids[0]}}","model":"{{Model}}","prompt":"{{Prompt(request)}}","options":{"num_predict":{{request.MaxTokens}}},"priority":"{{request.PriorityName}}"}""",
            $$"""{"request_id":"{{ids[1]}}","model":"{{SmallModel}}","messages":[{"role":"user","content":"{{Prompt(request)}}"}],"options":{"num_predict":{{request.MaxTokens}}},"stream":false,"priority":"{{request.PriorityName}}"}""",
        };
        var outcomes = new Dictionary<string, Outcome>(StringComparer.Ordinal);
        try
        {
            foreach (var frame in frames)
            {
                await socket.SendAsync(Encoding.UTF8.GetBytes(frame), WebSocketMessageType.Text, endOfMessage: true, deadline).ConfigureAwait(false);
            }

            while (outcomes.Count < ids.Length)
            {
                var (type, text) = await ReceiveAsync(socket, deadline).ConfigureAwait(false);
                if (type == WebSocketMessageType.Close)
                {
                    break;
                }

                using var document = JsonDocument.Parse(text);
                var root = document.RootElement;
                var id = root.GetProperty("request_id").GetString()!;
                if (root.TryGetProperty("error", out _))
                {
                    outcomes[id] = ClassifyErrorFrame(root);
                }
                else if (root.TryGetProperty("done", out var done) && done.ValueKind == JsonValueKind.True)
                {
                    outcomes[id] = Outcome.Served;
                }
            }

            if (request.UntilServerCloses)
            {
                // At shutdown the router closes the socket once its requests are over: 1001, with a reason.
                while (socket.State == WebSocketState.Open && (await ReceiveAsync(socket, deadline).ConfigureAwait(false)).Type != WebSocketMessageType.Close)
                {
                }

                if (socket.CloseStatus != WebSocketCloseStatus.EndpointUnavailable)
                {
                    return [.. ids.Select(_ => Outcome.Lost($"the socket ended with {socket.CloseStatus?.ToString() ?? "no close frame"}, not 1001"))];
                }

                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", deadline).ConfigureAwait(false);
            }
            else if (socket.State == WebSocketState.Open)
            {
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", deadline).ConfigureAwait(false);
            }
        }
        catch (WebSocketException e)
        {
            return [.. ids.Select(id => outcomes.TryGetValue(id, out var ended) ? ended : Outcome.Lost("WebSocket broke: " + e.Message))];
        }

        // A request frame that crossed the router's close 1001 is answered by the close itself: after
        // its close frame a WebSocket endpoint sends nothing more (RFC 6455 §5.5.1).
        var unanswered = socket.CloseStatus == WebSocketCloseStatus.EndpointUnavailable
            ? Outcome.Documented("close 1001 before the request was read")
            : Outcome.Lost($"no done or error frame before the socket {(socket.CloseStatus is { } status ? $"closed {(int)status} {socket.CloseStatusDescription}" : "closed without a close frame")}");
        return [.. ids.Select(id => outcomes.TryGetValue(id, out var ended) ? ended : unanswered)];
    }

    public static Uri WebSocketUri(Uri http) => new UriBuilder(http) { Scheme = "ws", Path = "/v1/stream/ws" }.Uri;

    /// <summary>An error frame: <c>{"request_id", "error": message, "code": status, "type": code}</c>.</summary>
    public static Outcome ClassifyErrorFrame(JsonElement frame)
    {
        var status = frame.TryGetProperty("code", out var code) && code.TryGetInt32(out var s) ? s : 0;
        var type = frame.TryGetProperty("type", out var t) ? t.GetString() ?? "" : "";
        if (status >= 500 && !DocumentedErrors.IsGatewayStatus(status)) return Outcome.Failed($"error frame {status} {type}");
        return DocumentedErrors.ClassifyCode(type);
    }

    /// <summary>One whole message (text, or the close).</summary>
    public static async Task<(WebSocketMessageType Type, string Text)> ReceiveAsync(WebSocket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (result.MessageType == WebSocketMessageType.Close) return (WebSocketMessageType.Close, "");
            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage) return (result.MessageType, Encoding.UTF8.GetString(message.GetBuffer(), 0, (int)message.Length));
        }
    }

    private async Task<Outcome> GrpcAsync(ChaosRequest request)
    {
        var deadline = DateTime.UtcNow + request.Deadline;
        var annotations = new JobAnnotations { Priority = request.Priority };
        annotations.Custom["request_id"] = "chaos-" + request.Number.ToString(CultureInfo.InvariantCulture);
        var options = new GenerationOptions { MaxTokens = request.MaxTokens };
        try
        {
            switch (request.Number % 4)
            {
                case 0:
                    var answer = await _compute.GenerateAsync(new GenerateRequest { Model = Model, Prompt = Prompt(request), Annotations = annotations, Options = options }, deadline: deadline).ConfigureAwait(false);
                    return answer.Stats.TokensGenerated > 0 ? Outcome.Served : Outcome.Lost("a gRPC answer without tokens");
                case 1:
                    using (var call = _compute.GenerateStream(new GenerateRequest { Model = Model, Prompt = Prompt(request), Annotations = annotations, Options = options }, deadline: deadline))
                    {
                        return await ReadGrpcStreamAsync(call.ResponseStream).ConfigureAwait(false);
                    }

                case 2:
                    var chat = new ChatRequest { Model = SmallModel, Annotations = annotations, Options = options };
                    chat.Messages.Add(new ChatMessage { Role = "user", Content = Prompt(request) });
                    using (var call = _compute.ChatStream(chat, deadline: deadline))
                    {
                        return await ReadGrpcStreamAsync(call.ResponseStream).ConfigureAwait(false);
                    }

                default:
                    var embedding = await _compute.EmbedAsync(new EmbedRequest { Model = EmbeddingModel, Text = Prompt(request), Annotations = annotations }, deadline: deadline).ConfigureAwait(false);
                    return embedding.Embedding.Count > 0 ? Outcome.Served : Outcome.Lost("an empty gRPC embedding");
            }
        }
        catch (RpcException e)
        {
            return DocumentedErrors.ClassifyGrpc(e.StatusCode);
        }
    }

    /// <summary>Messages until the one with <c>done</c>; the call must then end OK.</summary>
    public static async Task<Outcome> ReadGrpcStreamAsync(IAsyncStreamReader<GenerateStreamResponse> stream)
    {
        var done = false;
        while (await stream.MoveNext(CancellationToken.None).ConfigureAwait(false))
        {
            if (done) return Outcome.Lost("a gRPC message after done");
            done = stream.Current.Done;
        }

        return done ? Outcome.Served : Outcome.Lost("the gRPC stream ended OK without done");
    }

    /// <summary>An exception and its causes on one line.</summary>
    public static string Describe(Exception e)
    {
        var parts = new List<string>();
        for (Exception? cause = e; cause is not null; cause = cause.InnerException)
        {
            parts.Add($"{cause.GetType().Name}: {cause.Message}");
        }

        return string.Join(" ← ", parts);
    }

    private static string FirstWords(string? text) =>
        text is null ? "" : string.Join(' ', text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Take(4));

    public static string Shorten(string text) => text.Length <= 160 ? text : text[..160] + "…";

    public void Dispose()
    {
        _channel.Dispose();
        _client.Dispose();
    }
}
