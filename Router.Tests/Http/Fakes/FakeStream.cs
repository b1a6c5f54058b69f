using Akka;
using Akka.Streams.Dsl;
using System.Threading.Channels;
using Router.Actors.Backends;
using Router.Actors.Inference;
using Router.Actors.Routing;

namespace Router.Tests.Http.Fakes;

/// <summary>
/// A stream as the router hands it out: a bounded channel filled by a producer that stands for the
/// backend call. Records what a test needs to see: events produced, whether the producer stalled
/// on a full channel (backpressure), and whether the stream was disposed (slot freed).
/// </summary>
internal sealed class FakeStream : IInferenceStream
{
    /// <summary>A write that waits longer than this means the reader has stopped taking events.</summary>
    public static readonly TimeSpan StallThreshold = TimeSpan.FromMilliseconds(500);

    private readonly Channel<StreamEvent> _channel;
    private readonly CancellationTokenSource _cancellation = new();
    private readonly Task _producer;
    private int _produced;

    public FakeStream(RoutingDecision decision, int capacity, Func<FakeStream, CancellationToken, Task> produce)
    {
        Decision = decision;
        _channel = Channel.CreateBounded<StreamEvent>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _producer = Task.Run(async () =>
        {
            try
            {
                await produce(this, _cancellation.Token);
            }
            catch (OperationCanceledException) when (_cancellation.IsCancellationRequested)
            {
                BackendCallCancelled.TrySetResult();
            }
            finally
            {
                _channel.Writer.TryComplete();
            }
        });
    }

    public RoutingDecision Decision { get; }
    public Source<StreamEvent, NotUsed> Events => ChannelSource.FromReader(_channel.Reader);
    public GenerationStats? Stats { get; private set; }
    public int Produced => Volatile.Read(ref _produced);

    public TaskCompletionSource Disposed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public TaskCompletionSource BackendCallCancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    /// <summary>Completes with the number of events produced when a write first waited past <see cref="StallThreshold"/>.</summary>
    public TaskCompletionSource<int> Stalled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task WriteAsync(StreamEvent next, CancellationToken cancellationToken)
    {
        var pending = _channel.Writer.WriteAsync(next, cancellationToken);
        if (!pending.IsCompleted)
        {
            var write = pending.AsTask();
            if (await Task.WhenAny(write, Task.Delay(StallThreshold, cancellationToken)) != write)
            {
                Stalled.TrySetResult(Produced);
            }
            await write;
        }
        else
        {
            await pending;
        }
        Interlocked.Increment(ref _produced);
        if (next is StreamCompleted completed)
        {
            Stats = new GenerationStats(42, 420, completed.Usage.CompletionTokens, 9.5, 0.0012);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _cancellation.CancelAsync();
        await _producer;
        _cancellation.Dispose();
        Disposed.TrySetResult();
    }
}
