using System.Text;
using System.Threading.Channels;
using Router.Actors.Backends;
using Router.Actors.Config;
using Router.Gateway.Simulation;
using static Router.Tests.Backends.BackendTestKit;

namespace Router.Tests.Backends;

public sealed class BackendFailureTests
{
    private static readonly BackendRequest Generate = Json(BackendApi.OllamaGenerate,
        """{"model":"llama3.2:1b","prompt":"tell me","options":{"num_predict":10}}""", true);

    [Fact]
    public async Task Send_RefusedConnection_IsConnectFailedAndRecoversWhenAcceptingAgain()
    {
        await using SimulatedBackend sim = await StartSimulatorAsync();
        using IBackendClient client = BackendClientFactory.Create(BackendTestKit.Config(sim.Endpoint));
        await sim.RefuseConnectionsAsync();

        Result<TimeSpan, BackendError> refused = await client.ProbeAsync(Timeout());
        List<StreamEvent> events = await ReadAllAsync(client.Stream(Generate, Timeout()));

        Assert.Equal(BackendErrorKind.ConnectFailed, refused.Error.Kind);
        Assert.True(refused.Error.IsRetryable);
        StreamFailed failed = Assert.IsType<StreamFailed>(Assert.Single(events));
        Assert.Equal(BackendErrorKind.ConnectFailed, failed.Error.Kind);

        await sim.AcceptConnectionsAsync();
        Assert.True((await client.ProbeAsync(Timeout())).IsOk);
    }

    [Fact]
    public async Task Stream_ServerError_IsHttpStatusRetryableWithBody()
    {
        await using SimulatedBackend sim = await StartSimulatorAsync();
        using IBackendClient client = BackendClientFactory.Create(BackendTestKit.Config(sim.Endpoint));
        sim.Faults.ErrorStatus = 503;

        List<StreamEvent> events = await ReadAllAsync(client.Stream(Generate, Timeout()));

        StreamFailed failed = Assert.IsType<StreamFailed>(Assert.Single(events));
        Assert.Equal(BackendErrorKind.HttpStatus, failed.Error.Kind);
        Assert.Equal(503, failed.Error.StatusCode);
        Assert.True(failed.Error.IsRetryable);
        Assert.Contains("simulated fault", Encoding.UTF8.GetString(failed.Error.Body.Span), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stream_ClientError_IsHttpStatusNotRetryable()
    {
        await using SimulatedBackend sim = await StartSimulatorAsync();
        using IBackendClient client = BackendClientFactory.Create(BackendTestKit.Config(sim.Endpoint));

        List<StreamEvent> events = await ReadAllAsync(client.Stream(
            Json(BackendApi.OllamaChat, """{"model":"nomic-embed-text","messages":[{"role":"user","content":"hi"}]}""", true), Timeout()));

        StreamFailed failed = Assert.IsType<StreamFailed>(Assert.Single(events));
        Assert.Equal(400, failed.Error.StatusCode);
        Assert.False(failed.Error.IsRetryable);
    }

    [Fact]
    public async Task Stream_HangingBackend_TimesOutBeforeTheFirstByteAndFreesTheServer()
    {
        await using SimulatedBackend sim = await StartSimulatorAsync();
        using IBackendClient client = BackendClientFactory.Create(BackendTestKit.Config(sim.Endpoint, timeouts: new BackendTimeouts
        {
            FirstByte = TimeSpan.FromMilliseconds(300),
            Idle = TimeSpan.FromSeconds(30),
        }));
        sim.Faults.Hang = true;

        List<StreamEvent> events = await ReadAllAsync(client.Stream(Generate, Timeout()));

        StreamFailed failed = Assert.IsType<StreamFailed>(Assert.Single(events));
        Assert.Equal(BackendErrorKind.Timeout, failed.Error.Kind);
        Assert.True(failed.Error.IsRetryable);
        await sim.WaitUntilAsync(s => s.ActiveRequests == 0, Timeout());
    }

    [Fact]
    public async Task Send_HangingBackend_TimesOut()
    {
        await using SimulatedBackend sim = await StartSimulatorAsync();
        using IBackendClient client = BackendClientFactory.Create(BackendTestKit.Config(sim.Endpoint, timeouts: new BackendTimeouts { FirstByte = TimeSpan.FromMilliseconds(300) }));
        sim.Faults.Hang = true;

        var result = await client.SendAsync(Json(BackendApi.OllamaGenerate, """{"model":"llama3.2:1b","prompt":"x","stream":false}""", false), Timeout());

        Assert.Equal(BackendErrorKind.Timeout, result.Error.Kind);
    }

    [Fact]
    public async Task Stream_SilentMidStream_TimesOutOnIdle()
    {
        await using SimulatedBackend sim = await StartSimulatorAsync();
        using IBackendClient client = BackendClientFactory.Create(BackendTestKit.Config(sim.Endpoint, timeouts: new BackendTimeouts
        {
            FirstByte = TimeSpan.FromSeconds(30),
            Idle = TimeSpan.FromMilliseconds(200),
        }));
        // Every token waits longer than the idle limit; the first is covered by the first-byte limit.
        sim.Faults.SlowTokenDelay = TimeSpan.FromMilliseconds(1500);

        List<StreamEvent> events = await ReadAllAsync(client.Stream(Generate, Timeout()));

        Assert.Single(events.OfType<StreamChunk>());
        StreamFailed failed = Assert.IsType<StreamFailed>(events[^1]);
        Assert.Equal(BackendErrorKind.Timeout, failed.Error.Kind);
    }

    [Fact]
    public async Task Stream_DroppedMidway_IsStreamBrokenAfterTheChunksSoFar()
    {
        await using SimulatedBackend sim = await StartSimulatorAsync();
        using IBackendClient client = BackendClientFactory.Create(BackendTestKit.Config(sim.Endpoint));
        sim.Faults.DropAfterTokens = 3;

        List<StreamEvent> events = await ReadAllAsync(client.Stream(Generate, Timeout()));

        Assert.Equal(3, events.OfType<StreamChunk>().Count());
        StreamFailed failed = Assert.IsType<StreamFailed>(events[^1]);
        Assert.Equal(BackendErrorKind.StreamBroken, failed.Error.Kind);
        Assert.True(failed.Error.IsRetryable);
    }

    [Fact]
    public async Task Stream_OpenAIDroppedMidway_IsStreamBroken()
    {
        await using SimulatedBackend sim = await StartSimulatorAsync();
        using IBackendClient client = BackendClientFactory.Create(BackendTestKit.Config(sim.Endpoint, "openai"));
        sim.Faults.DropAfterTokens = 2;

        List<StreamEvent> events = await ReadAllAsync(client.Stream(Json(BackendApi.OpenAIChatCompletions,
            """{"model":"llama3.2:1b","messages":[{"role":"user","content":"x"}],"stream":true,"max_tokens":9}""", true), Timeout()));

        Assert.Equal(2, events.OfType<StreamChunk>().Count());
        Assert.Equal(BackendErrorKind.StreamBroken, Assert.IsType<StreamFailed>(events[^1]).Error.Kind);
    }

    [Fact]
    public async Task Stream_CallerCancels_ClosesTheBackendRequest()
    {
        await using SimulatedBackend sim = await StartSimulatorAsync();
        using IBackendClient client = BackendClientFactory.Create(BackendTestKit.Config(sim.Endpoint));
        sim.Faults.SlowTokenDelay = TimeSpan.FromMilliseconds(20);
        using var cts = new CancellationTokenSource();

        ChannelReader<StreamEvent> reader = client.Stream(Json(BackendApi.OllamaGenerate,
            """{"model":"llama3.2:1b","prompt":"long","options":{"num_predict":100000}}""", true), cts.Token);
        Assert.IsType<StreamChunk>(await reader.ReadAsync(Timeout()));
        Assert.Equal(1, sim.ActiveRequests);
        await cts.CancelAsync();

        // The simulator sees the connection close and stops generating.
        await sim.WaitUntilAsync(s => s.ActiveRequests == 0, Timeout());
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ReadAllAsync(reader));
        Assert.True(sim.TokensWritten < 100000);
    }

    [Fact]
    public async Task Stream_CallerCancelsWhileTheConsumerIsBehind_TheBackendStopsBeforeTheEnd()
    {
        await using SimulatedBackend sim = await StartSimulatorAsync();
        using IBackendClient client = BackendClientFactory.Create(BackendTestKit.Config(sim.Endpoint));
        // A second of work (100 tokens, 10 ms apart) that the caller will no longer want.
        const int Requested = 100;
        sim.Faults.SlowTokenDelay = TimeSpan.FromMilliseconds(10);
        using var cts = new CancellationTokenSource();

        ChannelReader<StreamEvent> reader = client.Stream(Json(BackendApi.OllamaGenerate,
            "{\"model\":\"llama3.2:1b\",\"prompt\":\"long\",\"options\":{\"num_predict\":" + Requested + "}}", true), cts.Token);

        // Nobody reads. Once the device has written two tokens more than the channel holds, the
        // client's reader loop waits on its full channel, not on the socket: no pending socket read
        // is there to turn the cancellation into a closed connection, the transport must close it.
        int capacity = BackendHttpTransport.StreamCapacity;
        await sim.WaitUntilAsync(s => s.TokensWritten >= capacity + 2 && reader.Count == capacity, Timeout());
        await cts.CancelAsync();

        // Kept open to be drained for reuse instead, the connection would let the device finish.
        await sim.WaitUntilAsync(s => s.ActiveRequests == 0, Timeout());
        Assert.Equal(0, sim.RequestsServed);
        Assert.InRange(sim.TokensWritten, capacity + 2, Requested - 1);
    }

    [Fact]
    public async Task Stream_ConsumerNotReading_BlocksTheBackendUntilItReads()
    {
        await using SimulatedBackend sim = await StartSimulatorAsync();
        using IBackendClient client = BackendClientFactory.Create(BackendTestKit.Config(sim.Endpoint));
        const int Requested = 5_000_000;
        using var cts = new CancellationTokenSource();

        ChannelReader<StreamEvent> reader = client.Stream(Json(BackendApi.OllamaGenerate,
            "{\"model\":\"llama3.2:1b\",\"prompt\":\"flood\",\"options\":{\"num_predict\":" + Requested + ",\"num_ctx\":131072}}", true), cts.Token);

        // Nobody reads: the channel fills, the client stops reading the socket, the socket buffers fill,
        // and the simulator's write blocks. The answer ends when the context is full: the largest
        // the model takes (131072 tokens) is megabytes more than the socket buffers hold.
        await sim.WaitUntilAsync(s => s.IsWriteBlocked && reader.Count == 16, Timeout());
        long blockedAt = sim.TokensWritten;
        Assert.InRange(blockedAt, 16, Requested / 10);
        Assert.False(reader.Completion.IsCompleted);

        // Reading lets it go on.
        using CancellationTokenSource patience = new(Patience);
        while (sim.TokensWritten <= blockedAt + 1000)
        {
            Assert.IsType<StreamChunk>(await reader.ReadAsync(patience.Token));
        }

        await cts.CancelAsync();
        await sim.WaitUntilAsync(s => s.ActiveRequests == 0, Timeout());
    }

    [Fact]
    public async Task Stream_OpenAIConsumerNotReading_BlocksTheBackendUntilItReads()
    {
        await using SimulatedBackend sim = await StartSimulatorAsync();
        using IBackendClient client = BackendClientFactory.Create(BackendTestKit.Config(sim.Endpoint, "openai"));
        const int Requested = 5_000_000;
        using var cts = new CancellationTokenSource();

        ChannelReader<StreamEvent> reader = client.Stream(Json(BackendApi.OpenAIChatCompletions,
            "{\"model\":\"llama3.2:1b\",\"messages\":[{\"role\":\"user\",\"content\":\"flood\"}],\"stream\":true,\"max_tokens\":" + Requested + "}", true), cts.Token);

        // The SSE parser reads only when asked for an event: with nobody reading, the channel fills,
        // the socket buffers fill and the simulator's write blocks, as with NDJSON.
        int capacity = BackendHttpTransport.StreamCapacity;
        await sim.WaitUntilAsync(s => s.IsWriteBlocked && reader.Count == capacity, Timeout());
        long blockedAt = sim.TokensWritten;
        Assert.InRange(blockedAt, capacity, Requested / 10);
        Assert.False(reader.Completion.IsCompleted);

        // Reading again lets the device write again: more tokens, or the rest of its answer (which
        // the model's context caps at 4096 tokens without num_ctx, which OpenAI's API cannot set).
        using CancellationTokenSource patience = new(Patience);
        var completed = false;
        while (sim.TokensWritten <= blockedAt && !completed)
        {
            completed = await reader.ReadAsync(patience.Token) is StreamCompleted;
        }

        Assert.True(completed || sim.TokensWritten > blockedAt, $"the device wrote nothing more after {blockedAt} tokens although the reader took every event");
        if (completed)
        {
            return;
        }

        // Leaving while a read is pending for the next event closes the connection: the device stops
        // short of its answer. (Unless the buffers the reads freed held the rest of it: then the device
        // had written its last token before we left, and served the whole context.)
        await cts.CancelAsync();
        await sim.WaitUntilAsync(s => s.ActiveRequests == 0, Timeout());
        if (sim.RequestsServed != 0)
        {
            Assert.InRange(sim.TokensWritten, SimulatorOptions.OllamaDefaultContextLength / 2, SimulatorOptions.OllamaDefaultContextLength);
        }
    }
}
