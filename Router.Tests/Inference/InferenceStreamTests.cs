using System.Text;
using System.Threading.Channels;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using Router.Actors.Backends;
using Router.Actors.Inference;
using Router.Actors.Routing;
using Router.Tests.Backends;

namespace Router.Tests.Inference;

/// <summary>
/// How a routed stream ends when its call is cut short after the backend's final chunk, driven
/// event by event through a channel the test fills (the race it covers needs a critical request to
/// arrive between two reads of the backend's socket, which no timing can aim at).
/// </summary>
public sealed class InferenceStreamTests
{
    private static readonly Uri Unused = new("http://127.0.0.1:9");

    /// <summary>
    /// Ollama ends a stream with a <c>"done": true</c> object, which surfaces forward as a line of
    /// their own, then the completion. scripts/chaos lost a request when a critical request
    /// preempted the stream between the two: the client got an error line after its "done" line.
    /// </summary>
    [Fact]
    public async Task Stream_PreemptedAfterTheFinalChunk_EndsCompletedNotFailed()
    {
        await using var router = await SimulatedRouter.StartAsync(EfficiencyMode.Performance);
        var usage = new BackendUsage(5, 2);
        var final = new StreamChunk(Encoding.UTF8.GetBytes("{\"done\":true}"), "") { Completes = new StreamCompleted(usage) };
        var (stream, ticket, backend) = Open(router, Chunk("Hello"), Chunk(" world"), final);

        // The critical request takes the slot: the call is cancelled before StreamCompleted was written.
        ticket.Preempt();
        backend.TryComplete(new OperationCanceledException());

        var (text, last) = await router.ReadAllAsync(stream);

        Assert.Equal("Hello world", text);
        var completed = Assert.IsType<StreamCompleted>(last);
        Assert.Equal(2, completed.Usage.CompletionTokens);
    }

    /// <summary>Preempted before its final chunk, the stream still ends with the preemption's error, saying why.</summary>
    [Fact]
    public async Task Stream_PreemptedBeforeTheFinalChunk_EndsWithThePreemption()
    {
        await using var router = await SimulatedRouter.StartAsync(EfficiencyMode.Performance);
        var (stream, ticket, backend) = Open(router, Chunk("Hello"), Chunk(" world"));

        ticket.Preempt();
        backend.TryComplete(new OperationCanceledException());

        var (text, last) = await router.ReadAllAsync(stream);

        Assert.Equal("Hello world", text);
        Assert.Equal(BackendErrorKind.Preempted, Assert.IsType<StreamFailed>(last).Error.Kind);
    }

    /// <summary>The usual order, final chunk then completion: one completion, not two.</summary>
    [Fact]
    public async Task Stream_FinalChunkThenCompletion_EndsOnceCompleted()
    {
        await using var router = await SimulatedRouter.StartAsync(EfficiencyMode.Performance);
        var completion = new StreamCompleted(new BackendUsage(5, 1));
        var final = new StreamChunk(Encoding.UTF8.GetBytes("{\"done\":true}"), "") { Completes = completion };
        var (stream, _, backend) = Open(router, Chunk("Hi"), final);
        backend.TryWrite(completion);
        backend.TryComplete();

        var events = await stream.Events.RunWith(Sink.Seq<StreamEvent>(), router.Runtime.System.Materializer());

        Assert.Single(events, e => e is StreamCompleted);
        Assert.IsType<StreamCompleted>(events[^1]);
    }

    private static StreamChunk Chunk(string text) => new(Encoding.UTF8.GetBytes("{\"response\":\"" + text + "\"}"), text);

    /// <summary>A stream as the router opens it (its first event already read, a granted slot), over a channel the test writes.</summary>
    private static (IInferenceStream Stream, SlotTicket Ticket, ChannelWriter<StreamEvent> Backend) Open(SimulatedRouter router, StreamEvent first, params StreamEvent[] rest)
    {
        var inferenceRouter = (InferenceRouter)router.Runtime.Router;
        var ticket = new SlotTicket(ActorRefs.Nobody, Priority.BestEffort, SimulatedRouter.Model, 0);
        Assert.True(ticket.TryGrant());
        var channel = Channel.CreateUnbounded<StreamEvent>();
        foreach (var item in rest)
        {
            channel.Writer.TryWrite(item);
        }

        var decision = new RoutingDecision("sim-ollama", RouteReasons.OnlyCandidate, [], new RouteEstimate(1, 1, 0), EfficiencyMode.Performance);
        var handle = new BackendHandle(BackendTestKit.Config(Unused), null!, new BackendSlots());
        var stream = new InferenceStream(inferenceRouter, SimulatedRouter.Generate(), decision, handle, ticket, new CancellationTokenSource(), channel.Reader, first, inferenceRouter.Time.GetTimestamp());
        return (stream, ticket, channel.Writer);
    }
}
