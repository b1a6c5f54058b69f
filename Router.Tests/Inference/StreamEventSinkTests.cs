using Akka;
using Akka.Event;
using Akka.Streams;
using Akka.Streams.Dsl;
using Router.Actors.Backends;
using Router.Actors.Inference;
using Router.Actors.Routing;
using Router.Tests.TestKit;

namespace Router.Tests.Inference;

/// <summary>The sink every surface writes a routed stream through (WriteToAsync), on a real materializer.</summary>
public sealed class StreamEventSinkTests : Akka.TestKit.Xunit2.TestKit
{
    private readonly IMaterializer _materializer;

    public StreamEventSinkTests()
        : base(AkkaTestConfig.RealTime, nameof(StreamEventSinkTests)) =>
        _materializer = Sys.Materializer();

    /// <summary>
    /// A client that leaves cancels its token, and a write to it may then throw at once (a pipe's
    /// flush with a cancelled token) instead of returning a failed task. The stream was still just
    /// cancelled: it must end as cancelled, not as a stage that threw, which Akka logs at error
    /// level (one error line in the journal per client that hangs up mid-answer; scripts/chaos
    /// counted them under load).
    /// </summary>
    [Fact]
    public async Task WriteTo_WriteThrowsAsTheClientLeaves_EndsCancelledWithoutAnErrorLogged()
    {
        var errors = SubscribeToErrors();
        using var client = new CancellationTokenSource();
        var events = Source.From<StreamEvent>([new StreamChunk(ReadOnlyMemory<byte>.Empty, "hi"), new StreamChunk(ReadOnlyMemory<byte>.Empty, " there")]);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new FakeStream(events).WriteToAsync(new HangUpWriter(client), _materializer, client.Token));

        AssertNoErrorLoggedBefore(errors);
    }

    /// <summary>The same for a writer that throws for any other reason: the client is gone, and nothing is logged as a stage error.</summary>
    [Fact]
    public async Task WriteTo_WriteThrows_ClientGoneWithoutAnErrorLogged()
    {
        var errors = SubscribeToErrors();
        using var client = new CancellationTokenSource();
        var events = Source.From<StreamEvent>([new StreamChunk(ReadOnlyMemory<byte>.Empty, "hi")]);

        var outcome = await new FakeStream(events).WriteToAsync(new HangUpWriter(null), _materializer, client.Token);

        Assert.Equal(StreamOutcome.ClientGone, outcome);
        AssertNoErrorLoggedBefore(errors);
    }

    /// <summary>A truncated stream whose truncation notice throws at once: the client is gone, nothing logged.</summary>
    [Fact]
    public async Task WriteTo_TruncationNoticeThrows_ClientGoneWithoutAnErrorLogged()
    {
        var errors = SubscribeToErrors();
        using var client = new CancellationTokenSource();
        var events = Source.From<StreamEvent>([new StreamChunk(ReadOnlyMemory<byte>.Empty, "hi")]);

        var outcome = await new FakeStream(events).WriteToAsync(new ThrowOnTruncatedWriter(), _materializer, client.Token);

        Assert.Equal(StreamOutcome.ClientGone, outcome);
        AssertNoErrorLoggedBefore(errors);
    }

    private Akka.TestKit.TestProbe SubscribeToErrors()
    {
        var errors = CreateTestProbe();
        Sys.EventStream.Subscribe(errors.Ref, typeof(Error));
        return errors;
    }

    /// <summary>
    /// A stage that throws logs its error before it stops, and the stream's outcome is set only as
    /// it stops: so an error from the stream reaches the event stream before a marker published
    /// now. The first error the probe gets must be the marker.
    /// </summary>
    private void AssertNoErrorLoggedBefore(Akka.TestKit.TestProbe errors)
    {
        const string Marker = "stream-event-sink-tests: end of the stream";
        Sys.EventStream.Publish(new Error(null, nameof(StreamEventSinkTests), GetType(), Marker));
        var first = errors.ExpectMsg<Error>(TimeSpan.FromSeconds(10));
        Assert.Equal(Marker, first.Message);
    }

    /// <summary>Cancels the client's token (when given) and throws from the write itself, as a flush of a gone connection may.</summary>
    private sealed class HangUpWriter(CancellationTokenSource? client) : IStreamEventWriter
    {
        public ValueTask<bool> WriteAsync(StreamEvent item, CancellationToken cancellationToken)
        {
            if (client is null) throw new IOException("the connection is gone");
            client.Cancel();
            cancellationToken.ThrowIfCancellationRequested();
            return ValueTask.FromResult(true);
        }

        public ValueTask WriteTruncatedAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }

    /// <summary>Takes the chunks, then finds the connection gone when told the answer was cut short.</summary>
    private sealed class ThrowOnTruncatedWriter : IStreamEventWriter
    {
        public ValueTask<bool> WriteAsync(StreamEvent item, CancellationToken cancellationToken) => ValueTask.FromResult(true);

        public ValueTask WriteTruncatedAsync(CancellationToken cancellationToken) => throw new IOException("the connection is gone");
    }

    private sealed class FakeStream(Source<StreamEvent, NotUsed> events) : IInferenceStream
    {
        public RoutingDecision Decision { get; } = new("b", RouteReasons.OnlyCandidate, [], new RouteEstimate(1, 1, 0), EfficiencyMode.Balanced);
        public Source<StreamEvent, NotUsed> Events => events;
        public GenerationStats? Stats => null;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
