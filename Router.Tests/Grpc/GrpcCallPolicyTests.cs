using System.Net;
using System.Net.Http.Headers;
using Grpc.Core;
using Health = Grpc.Health.V1.Health;
using HealthCheckRequest = Grpc.Health.V1.HealthCheckRequest;
using HealthCheckResponse = Grpc.Health.V1.HealthCheckResponse;
using Grpc.Net.Client;
using Router.Gateway.Grpc;
using Router.Gateway.Grpc.Contracts.Compute;

namespace Router.Tests.Grpc;

/// <summary>
/// What every call shares, seen by Grpc.Net.Client (and a bare HTTP/2 client where no gRPC client
/// would misbehave on purpose): deadlines and cancels free the stream, shutdown ends streams with
/// UNAVAILABLE, and a call whose message never comes is not held.
/// </summary>
public sealed class GrpcCallPolicyTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private GrpcTestServer _server = null!;
    private GrpcChannel _channel = null!;

    public async Task InitializeAsync()
    {
        _server = await GrpcTestServer.StartAsync(new GrpcServerOptions
        {
            MaxReceiveMessageSize = GrpcTestServer.TestMaxMessageSize,
            MaxSendMessageSize = GrpcTestServer.TestMaxMessageSize,
            SystemStatePollInterval = TimeSpan.FromMinutes(10),
            // Kestrel checks rates once a second; the grace must be longer than that.
            RequestMessageGracePeriod = TimeSpan.FromSeconds(1.5),
        });
        _channel = GrpcChannel.ForAddress(_server.Address);
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task GenerateStream_DeadlinePassesMidStream_DeadlineExceededAndStreamDisposed()
    {
        var client = new ComputeService.ComputeServiceClient(_channel);
        using var call = client.GenerateStream(new GenerateRequest { Model = FakeInferenceRouter.Hang, Prompt = "hi" },
            deadline: DateTime.UtcNow.AddMilliseconds(500));

        Assert.True(await call.ResponseStream.MoveNext());
        Assert.Equal("first", call.ResponseStream.Current.Token);
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        // Disposed before its end: the backend call is cancelled and the slot given back.
        await _server.Router.StreamAbandoned.Task.WaitAsync(Patience);
    }

    [Fact]
    public async Task GenerateStream_ClientCancelsMidStream_StreamDisposed()
    {
        var client = new ComputeService.ComputeServiceClient(_channel);
        using var cancel = new CancellationTokenSource();
        using var call = client.GenerateStream(new GenerateRequest { Model = FakeInferenceRouter.Hang, Prompt = "hi" }, cancellationToken: cancel.Token);

        Assert.True(await call.ResponseStream.MoveNext());
        await cancel.CancelAsync();

        Assert.Equal(StatusCode.Cancelled, (await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext())).StatusCode);
        await _server.Router.StreamAbandoned.Task.WaitAsync(Patience);
    }

    [Fact]
    public async Task HealthWatch_HostStops_StreamEndsUnavailableWithoutHoldingShutdown()
    {
        var health = new Health.HealthClient(_channel);
        using var watch = health.Watch(new HealthCheckRequest { Service = "" });
        Assert.True(await watch.ResponseStream.MoveNext());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, watch.ResponseStream.Current.Status);

        // Without the call policy the watch would run until Kestrel's shutdown timeout cut it off.
        var stopping = _server.DisposeAsync().AsTask();

        var error = await Assert.ThrowsAsync<RpcException>(() => watch.ResponseStream.MoveNext()).WaitAsync(Patience);
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Contains("shutting down", error.Status.Detail, StringComparison.Ordinal);
        await stopping.WaitAsync(Patience);
    }

    [Fact]
    public async Task Generate_HandlerThrows_InternalWithoutTheExceptionText()
    {
        var client = new ComputeService.ComputeServiceClient(_channel);

        var error = await Assert.ThrowsAsync<RpcException>(() => client.GenerateAsync(new GenerateRequest { Model = FakeInferenceRouter.Throws, Prompt = "hi" }).ResponseAsync);

        Assert.Equal(StatusCode.Internal, error.StatusCode);
        Assert.DoesNotContain(FakeInferenceRouter.SecretDetail, error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generate_QueueFull_ResourceExhaustedWithRetryPushback()
    {
        var client = new ComputeService.ComputeServiceClient(_channel);

        var error = await Assert.ThrowsAsync<RpcException>(() => client.GenerateAsync(new GenerateRequest { Model = FakeInferenceRouter.Busy, Prompt = "hi" }).ResponseAsync);

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("retry after 2 s", error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal("2000", error.Trailers.GetValue(GrpcErrors.RetryPushbackTrailer));
    }

    /// <summary>
    /// A client that opens a unary call and never sends its message: it is cut off once the grace
    /// period has passed with no data, instead of holding its stream (and what the server keeps
    /// for it) until the connection goes. Kestrel measures the rate per HTTP/2 connection, so it
    /// closes the connection, taking the client's other calls on it along.
    /// </summary>
    [Fact]
    public async Task Generate_MessageNeverSent_CallResetAfterGracePeriod()
    {
        using var http = new HttpClient(new SocketsHttpHandler()) { Timeout = Timeout.InfiniteTimeSpan };
        using var never = new NeverEndingContent();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_server.Address, "/compute.v1.ComputeService/Generate"))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = never,
        };
        request.Headers.TE.ParseAdd("trailers");

        // Held forever, this would time out.
        var outcome = await CallOutcomeAsync(http, request).WaitAsync(Patience);

        Assert.StartsWith("reset", outcome, StringComparison.Ordinal);
        Assert.False(_server.Router.Requests.TryPeek(out _), "the router saw a request");
    }

    public static TheoryData<string, byte[], string?> UnreadableMessages() => new()
    {
        // Field 1 as a varint with its continuation bit set to the end: not protobuf.
        { "not protobuf", [0xFF, 0xFF, 0xFF, 0xFF, 0x0F], null },
        // Field 2 (model), length-delimited, holding bytes that are not UTF-8.
        { "a string of invalid UTF-8", [0x12, 0x02, 0xC3, 0x28], null },
        { "gzip that does not inflate", [0x1F, 0x8B, 0x00, 0x01, 0x02], "gzip" },
    };

    /// <summary>
    /// A message Grpc.AspNetCore cannot read fails before any handler runs; the library's own
    /// answer is UNKNOWN "Exception was thrown by handler.", which reads as a crash. gRPC's status
    /// table says INTERNAL, and the message says what is wrong with the request.
    /// </summary>
    [Theory]
    [MemberData(nameof(UnreadableMessages))]
    public async Task Generate_MessageCannotBeRead_InternalSayingWhy(string what, byte[] message, string? encoding)
    {
        _ = what;
        using var http = new HttpClient(new SocketsHttpHandler()) { Timeout = Patience };
        var framed = new byte[5 + message.Length];
        framed[0] = encoding is null ? (byte)0 : (byte)1;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(framed.AsSpan(1), (uint)message.Length);
        message.CopyTo(framed, 5);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_server.Address, "/compute.v1.ComputeService/Generate"))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(framed),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TE.ParseAdd("trailers");
        if (encoding is not null) request.Headers.Add("grpc-encoding", encoding);

        using var response = await http.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();

        Assert.Equal("13", response.Headers.GetValues("grpc-status").Single());
        Assert.StartsWith("The request message of /compute.v1.ComputeService/Generate could not be read", response.Headers.GetValues("grpc-message").Single(), StringComparison.Ordinal);
        Assert.False(_server.Router.Requests.TryPeek(out _), "the router saw a request");
    }

    private static async Task<string> CallOutcomeAsync(HttpClient http, HttpRequestMessage request)
    {
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            await response.Content.ReadAsByteArrayAsync();
            var status = response.Headers.TryGetValues("grpc-status", out var values) ? values.First()
                : response.TrailingHeaders.TryGetValues("grpc-status", out var trailers) ? trailers.First() : "none";
            return $"ended with grpc-status {status}";
        }
        catch (HttpRequestException e)
        {
            return "reset: " + e.Message;
        }
    }

    /// <summary>A gRPC request body that sends its headers and then nothing, ever.</summary>
    private sealed class NeverEndingContent : HttpContent
    {
        private readonly TaskCompletionSource _never = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public NeverEndingContent() => Headers.ContentType = new MediaTypeHeaderValue("application/grpc");

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.FlushAsync();
            await _never.Task;
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            _never.TrySetCanceled();
            base.Dispose(disposing);
        }
    }
}
