using System.Buffers.Binary;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using Google.Protobuf;
using Router.Gateway.Grpc.Contracts.Compute;

namespace Router.Tests.Grpc;

/// <summary>
/// The transport against PROTOCOL-HTTP2.md, over a real HTTP/2 connection from HttpClient (h2c,
/// prior knowledge), where the test controls headers, DATA frame boundaries and raw bytes.
/// </summary>
public sealed class GrpcTransportTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);
    private GrpcTestServer _server = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await GrpcTestServer.StartAsync();
        _client = new HttpClient(new SocketsHttpHandler())
        {
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = Timeout,
        };
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    private Uri Url(string path, int? port = null) => new($"http://127.0.0.1:{port ?? _server.GrpcPort}{path}");

    private static byte[] Frame(IMessage message, byte flag = 0)
    {
        var payload = message.ToByteArray();
        return Frame(payload, flag);
    }

    private static byte[] Frame(byte[] payload, byte flag)
    {
        var bytes = new byte[5 + payload.Length];
        bytes[0] = flag;
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(1), (uint)payload.Length);
        payload.CopyTo(bytes, 5);
        return bytes;
    }

    private HttpRequestMessage Grpc(string path, HttpContent content, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, Url(path))
        {
            Content = content,
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return request;
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;

    private static string? Trailer(HttpResponseMessage response, string name) =>
        response.TrailingHeaders.TryGetValues(name, out var values) ? string.Join(",", values) : null;

    private static GenerateRequest Generate(string model = "llama3.2:1b", string prompt = "hi") => new() { Model = model, Prompt = prompt };

    [Fact]
    public async Task Unary_ValidRequest_MessageThenStatusInTrailers()
    {
        using var response = await _client.SendAsync(Grpc("/compute.v1.ComputeService/Generate", new ByteArrayContent(Frame(Generate()))));
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/grpc", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("identity,gzip", Header(response, "grpc-accept-encoding"));
        Assert.Equal(0, body[0]);
        Assert.Equal(body.Length - 5, (int)BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(1)));
        Assert.Equal("echo: hi", GenerateResponse.Parser.ParseFrom(body.AsSpan(5)).Response);
        Assert.Equal("0", Trailer(response, "grpc-status"));
        Assert.Null(Header(response, "grpc-status"));
    }

    [Fact]
    public async Task Unary_MessageSplitAcrossDataFrames_Reassembled()
    {
        var bytes = Frame(Generate(prompt: "split across frames"));
        var content = new ChunkedContent();
        var send = _client.SendAsync(Grpc("/compute.v1.ComputeService/Generate", content), HttpCompletionOption.ResponseHeadersRead);
        // Each chunk is flushed on its own, so each becomes its own DATA frame: 2 header bytes,
        // the rest of the header, then the payload in two parts.
        await content.WriteAsync(bytes[..2]);
        await content.WriteAsync(bytes[2..5]);
        await content.WriteAsync(bytes[5..9]);
        await content.WriteAsync(bytes[9..]);
        content.Complete();

        using var response = await send.WaitAsync(Timeout);
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal("echo: split across frames", GenerateResponse.Parser.ParseFrom(body.AsSpan(5)).Response);
        Assert.Equal("0", Trailer(response, "grpc-status"));
    }

    [Fact]
    public async Task Unary_TwoMessagesCoalescedInOneFrame_Internal()
    {
        var bytes = Frame(Generate()).Concat(Frame(Generate())).ToArray();
        using var response = await _client.SendAsync(Grpc("/compute.v1.ComputeService/Generate", new ByteArrayContent(bytes)));
        await response.Content.ReadAsByteArrayAsync();

        Assert.Equal("13", Header(response, "grpc-status"));
    }

    [Fact]
    public async Task Duplex_TwoRequestsCoalescedInOneFrame_TwoAnswers()
    {
        var list = new Router.Gateway.Grpc.Contracts.Reflection.V1.ServerReflectionRequest { ListServices = "" };
        var bytes = Frame(list).Concat(Frame(list)).ToArray();
        using var response = await _client.SendAsync(Grpc("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", new ByteArrayContent(bytes)));
        var body = await response.Content.ReadAsByteArrayAsync();

        var first = 5 + (int)BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(1));
        var second = 5 + (int)BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(first + 1));
        Assert.Equal(body.Length, first + second);
        Assert.Equal("0", Trailer(response, "grpc-status"));
    }

    [Fact]
    public async Task Request_WrongContentType_Http415()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, Url("/compute.v1.ComputeService/Generate"))
        {
            Content = new StringContent("{\"prompt\":\"hi\"}", Encoding.UTF8, "application/json"),
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        using var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Null(Header(response, "grpc-status"));
    }

    [Fact]
    public async Task Request_UnsupportedGrpcEncoding_UnimplementedWithAcceptEncoding()
    {
        using var response = await _client.SendAsync(Grpc("/compute.v1.ComputeService/Generate", new ByteArrayContent(Frame(Generate(), flag: 1)), ("grpc-encoding", "br")));
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("12", Header(response, "grpc-status"));
        Assert.Equal("identity,gzip", Header(response, "grpc-accept-encoding"));
        Assert.Empty(body);
    }

    [Fact]
    public async Task Request_UnknownMethod_TrailersOnlyUnimplemented()
    {
        using var response = await _client.SendAsync(Grpc("/compute.v1.ComputeService/Nope", new ByteArrayContent(Frame(Generate()))));
        var body = await response.Content.ReadAsByteArrayAsync();

        // Trailers-Only: the status is in the one HEADERS frame, no body, no trailers.
        Assert.Equal("12", Header(response, "grpc-status"));
        Assert.Equal("Method is unimplemented: /compute.v1.ComputeService/Nope.", Header(response, "grpc-message"));
        Assert.Empty(body);
        Assert.Empty(response.TrailingHeaders);
    }

    [Fact]
    public async Task Request_CompressedFlagWithoutEncoding_Internal()
    {
        using var response = await _client.SendAsync(Grpc("/compute.v1.ComputeService/Generate", new ByteArrayContent(Frame(Generate(), flag: 1))));
        await response.Content.ReadAsByteArrayAsync();

        Assert.Equal("13", Header(response, "grpc-status"));
    }

    [Fact]
    public async Task Request_GzipMessage_InflatedAndAnswerCompressed()
    {
        using var deflated = new MemoryStream();
        using (var gzip = new GZipStream(deflated, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(Generate(prompt: "zipped").ToByteArray());
        }

        using var response = await _client.SendAsync(Grpc("/compute.v1.ComputeService/Generate", new ByteArrayContent(Frame(deflated.ToArray(), 1)),
            ("grpc-encoding", "gzip"), ("grpc-accept-encoding", "identity,gzip")));
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal("gzip", Header(response, "grpc-encoding"));
        Assert.Equal(1, body[0]);
        using var inflated = new MemoryStream();
        using (var gunzip = new GZipStream(new MemoryStream(body, 5, body.Length - 5), CompressionMode.Decompress))
        {
            gunzip.CopyTo(inflated);
        }

        Assert.Equal("echo: zipped", GenerateResponse.Parser.ParseFrom(inflated.ToArray()).Response);
        Assert.Equal("0", Trailer(response, "grpc-status"));
    }

    [Fact]
    public async Task Request_GrpcTimeoutPasses_DeadlineExceededAndHandlerCancelled()
    {
        using var response = await _client.SendAsync(Grpc("/compute.v1.ComputeService/Generate", new ByteArrayContent(Frame(Generate(FakeInferenceRouter.Hang))), ("grpc-timeout", "100m")));
        await response.Content.ReadAsByteArrayAsync();

        Assert.Equal("4", Header(response, "grpc-status"));
        await _server.Router.CallCancelled.Task.WaitAsync(Timeout);
    }

    [Fact]
    public async Task Request_StatusMessageWithNonAscii_PercentEncoded()
    {
        using var response = await _client.SendAsync(Grpc("/compute.v1.ComputeService/Generate", new ByteArrayContent(Frame(Generate(FakeInferenceRouter.Unicode)))));
        await response.Content.ReadAsByteArrayAsync();

        Assert.Equal("5", Header(response, "grpc-status"));
        Assert.Equal("Modell %C2%ABllama%C2%BB fehlt: 100%25 belegt%0Abitte sp%C3%A4ter", Header(response, "grpc-message"));
    }

    [Fact]
    public async Task Request_HandlerThrows_InternalWithoutDetails()
    {
        using var response = await _client.SendAsync(Grpc("/compute.v1.ComputeService/Generate", new ByteArrayContent(Frame(Generate(FakeInferenceRouter.Throws)))));
        await response.Content.ReadAsByteArrayAsync();

        Assert.Equal("13", Header(response, "grpc-status"));
        Assert.DoesNotContain("secret", Header(response, "grpc-message") ?? "", StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServerStream_EachMessageFlushed_FirstArrivesWhileCallOpen()
    {
        var request = Grpc("/compute.v1.ComputeService/GenerateStream", new ByteArrayContent(Frame(Generate(FakeInferenceRouter.Hang))));
        using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();

        // The backend stream sent one token and hangs; the token must reach us anyway.
        var header = new byte[5];
        await body.ReadExactlyAsync(header).AsTask().WaitAsync(Timeout);
        var payload = new byte[BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1))];
        await body.ReadExactlyAsync(payload).AsTask().WaitAsync(Timeout);
        Assert.Equal("first", GenerateStreamResponse.Parser.ParseFrom(payload).Token);

        // Disposing the response mid-stream resets the HTTP/2 stream (RST_STREAM): the server
        // must abandon the backend stream.
        response.Dispose();
        await _server.Router.StreamAbandoned.Task.WaitAsync(Timeout);
    }

    [Fact]
    public async Task ServerStream_HostStops_StreamEndsUnavailableWithoutHoldingShutdown()
    {
        var watch = new Router.Gateway.Grpc.Contracts.Health.HealthCheckRequest { Service = "" };
        using var response = await _client.SendAsync(Grpc("/grpc.health.v1.Health/Watch", new ByteArrayContent(Frame(watch))), HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        var first = new byte[7];
        await body.ReadExactlyAsync(first).AsTask().WaitAsync(Timeout);

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await _server.DisposeAsync().AsTask().WaitAsync(Timeout);
        var rest = new MemoryStream();
        await body.CopyToAsync(rest).WaitAsync(Timeout);

        Assert.True(System.Diagnostics.Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(5), "shutdown waited for the stream");
        Assert.Equal("14", Trailer(response, "grpc-status"));
    }

    [Fact]
    public async Task Http11_OnListenerWithHttp1_RefusedWith426()
    {
        using var http1 = new HttpClient { Timeout = Timeout };
        var request = new HttpRequestMessage(HttpMethod.Post, Url("/compute.v1.ComputeService/Generate", _server.MixedPort))
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(Frame(Generate())),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        using var response = await http1.SendAsync(request);

        Assert.Equal(HttpStatusCode.UpgradeRequired, response.StatusCode);
        Assert.Contains("gRPC requires HTTP/2", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Http11_OnHttp2OnlyListener_400AndConnectionClosed()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, _server.GrpcPort).WaitAsync(Timeout);
        await socket.SendAsync(Encoding.ASCII.GetBytes(
            "POST /compute.v1.ComputeService/Generate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/grpc\r\nContent-Length: 0\r\n\r\n"));

        // The server answers in HTTP/2 and closes: read until end of stream.
        var received = new List<byte>();
        var buffer = new byte[1024];
        using var cts = new CancellationTokenSource(Timeout);
        int read;
        while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token)) > 0)
        {
            received.AddRange(buffer.AsSpan(0, read).ToArray());
        }

        // Kestrel detects HTTP/1.x on an HTTP/2-only endpoint and answers in HTTP/1.1 before closing.
        var text = Encoding.ASCII.GetString(received.ToArray());
        Assert.StartsWith("HTTP/1.1 400 Bad Request", text, StringComparison.Ordinal);
    }
}

/// <summary>Request content written chunk by chunk, each chunk flushed: one DATA frame each.</summary>
internal sealed class ChunkedContent : HttpContent
{
    private readonly Channel<byte[]> _chunks = Channel.CreateUnbounded<byte[]>();

    public ValueTask WriteAsync(byte[] chunk) => _chunks.Writer.WriteAsync(chunk);

    public void Complete() => _chunks.Writer.TryComplete();

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        await foreach (var chunk in _chunks.Reader.ReadAllAsync())
        {
            await stream.WriteAsync(chunk);
            await stream.FlushAsync();
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}
