using System.Diagnostics.CodeAnalysis;
using System.Threading.Channels;
using Akka;
using Akka.Streams.Dsl;
using Router.Actors.Backends;
using Router.Actors.Routing;

namespace Router.Actors.Inference;

/// <summary>
/// A streaming answer: reads straight from the backend client's bounded channel (backpressure
/// reaches the backend socket), counts tokens on the way, and releases the backend slot exactly
/// once — when the last event is read, or when it is aborted or disposed. Surfaces run it as the
/// Akka.Streams <see cref="Events"/> source.
/// </summary>
internal sealed class InferenceStream : ChannelReader<StreamEvent>, IInferenceStream
{
    private readonly InferenceRouter _router;
    private readonly InferenceRequest _request;
    private readonly BackendHandle _handle;
    private readonly SlotTicket _ticket;
    private readonly CancellationTokenSource _call;
    private readonly ChannelReader<StreamEvent> _inner;
    private readonly long _started;
    private readonly long _granted;
    // The first event (already read), or a failure made up for a preempted call: served before the inner channel.
    private StreamEvent? _first;
    // The completion the backend's final chunk carried, until StreamCompleted itself is read: a call
    // that ends otherwise after that chunk (preempted between the two) still completes.
    private StreamCompleted? _completion;
    private double? _firstTokenMs;
    private int _chunks;
    private int _finished;
    private int _aborted;

    public InferenceStream(InferenceRouter router, InferenceRequest request, RoutingDecision decision, BackendHandle handle,
        SlotTicket ticket, CancellationTokenSource call, ChannelReader<StreamEvent> inner, StreamEvent first, long started)
    {
        _router = router;
        _request = request;
        Decision = decision;
        _handle = handle;
        _ticket = ticket;
        _call = call;
        _inner = inner;
        _first = first;
        _started = started;
        _granted = router.Time.GetTimestamp();
        Observe(first);
    }

    public RoutingDecision Decision { get; }
    public Source<StreamEvent, NotUsed> Events => Source.FromGraph(new StreamEventSource(this));
    public GenerationStats? Stats { get; private set; }

    public override Task Completion => _inner.Completion;

    public override bool TryRead([MaybeNullWhen(false)] out StreamEvent item)
    {
        if (_first is { } first)
        {
            // The first event was observed when it arrived (it set the time to first token).
            _first = null;
            item = first;
            AfterRead(first);
            return true;
        }

        if (_inner.TryRead(out item))
        {
            Observe(item);
            AfterRead(item);
            return true;
        }

        return false;
    }

    public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default)
    {
        if (_first is not null)
        {
            return new ValueTask<bool>(true);
        }

        // A ValueTask may be consumed once: when it has completed, take its result here and never
        // hand the same instance on (a pooled one may already serve another wait).
        var wait = _inner.WaitToReadAsync(cancellationToken);
        if (wait.IsCompletedSuccessfully)
        {
            return wait.Result ? new ValueTask<bool>(true) : WaitSlowAsync(new ValueTask<bool>(false), cancellationToken);
        }

        return WaitSlowAsync(wait, cancellationToken);
    }

    /// <summary>
    /// A preempted call ends its channel with a cancellation (or just ends). The reader must not
    /// mistake that for its own cancellation: it gets a <see cref="StreamFailed"/> that says why.
    /// </summary>
    private async ValueTask<bool> WaitSlowAsync(ValueTask<bool> wait, CancellationToken cancellationToken)
    {
        try
        {
            if (await wait.ConfigureAwait(false))
            {
                return true;
            }
        }
        catch (OperationCanceledException) when (_ticket.IsPreempted && !cancellationToken.IsCancellationRequested)
        {
        }

        // The final chunk went out: the client has the whole answer, and gets its end, not an error
        // line after it.
        if (Interlocked.Exchange(ref _completion, null) is { } completion)
        {
            _first = completion;
            return true;
        }

        if (Volatile.Read(ref _finished) == 0 && _ticket.IsPreempted)
        {
            _first = new StreamFailed(InferenceRouter.Preempted(Decision.BackendId));
            return true;
        }

        return false;
    }

    private void Observe(StreamEvent item)
    {
        if (item is StreamChunk chunk)
        {
            if (_firstTokenMs is null)
            {
                _firstTokenMs = _router.Time.GetElapsedTime(_started).TotalMilliseconds;
                _ticket.ReportFirstToken(_firstTokenMs.Value);
            }

            if (chunk.Text.Length > 0)
            {
                _chunks++;
            }
        }
    }

    private void AfterRead(StreamEvent item)
    {
        switch (item)
        {
            case StreamChunk { Completes: { } completes }:
                // The answer is whole: the slot goes back now, not after the connection's drain, and
                // a critical request can no longer preempt a call that has nothing left to say.
                Volatile.Write(ref _completion, completes);
                Finish(CallOutcome.Succeeded, completes.Usage);
                break;
            case StreamCompleted completed:
                Volatile.Write(ref _completion, null);
                Finish(CallOutcome.Succeeded, completed.Usage);
                break;
            case StreamFailed failed:
                Finish(failed.Error.Kind == BackendErrorKind.Preempted ? CallOutcome.Preempted
                    : failed.Error.IsRetryable ? CallOutcome.BackendFailed
                    : CallOutcome.ClientError, null);
                break;
        }
    }

    private void Finish(CallOutcome outcome, BackendUsage? usage)
    {
        if (Interlocked.Exchange(ref _finished, 1) != 0)
        {
            return;
        }

        var total = _router.Time.GetElapsedTime(_started).TotalMilliseconds;
        var tokens = usage is { CompletionTokens: > 0 } ? usage.CompletionTokens : _chunks;
        var ttft = _firstTokenMs ?? total;
        var stats = _router.Stats(Decision, _handle, ttft, total, tokens, usage?.EvalDuration?.TotalSeconds, _router.Time.GetElapsedTime(_granted));
        Stats = stats;
        _ticket.Release(new CallReport(outcome, _request.Model, _firstTokenMs, tokens, stats.TokensPerSecond > 0 ? tokens / stats.TokensPerSecond : null));
        _router.Observe(Decision, _request, outcome, stats, streaming: true, _granted);
    }

    /// <summary>
    /// Ends the stream where it is. Before its end the backend call is cancelled and the slot freed
    /// (the client went away); after it, only the call's token is freed. Only the first call counts.
    /// </summary>
    public void Abort()
    {
        if (Interlocked.Exchange(ref _aborted, 1) != 0)
        {
            return;
        }

        if (Volatile.Read(ref _finished) == 0)
        {
            _call.Cancel();
            Finish(CallOutcome.Cancelled, null);
        }

        _call.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        Abort();
        return default;
    }
}
