using System.Runtime.CompilerServices;
using Akka.Streams;
using Akka.Streams.Stage;
using Router.Actors.Backends;

namespace Router.Actors.Inference;

/// <summary>
/// Writes a routed stream's events to one client in its protocol (SSE, NDJSON, WebSocket frames,
/// gRPC messages). Each surface implements it; <see cref="StreamEventSink"/> drives it.
/// </summary>
public interface IStreamEventWriter
{
    /// <summary>
    /// Writes <paramref name="item"/>. Completes once the client has taken it (or the transport has
    /// room for more): the next event is not read from the backend before. A chunk whose
    /// <see cref="StreamChunk.MoreFollows"/> is set may be held back to go out with the next.
    /// Returns false when the client is gone and nothing more should be written.
    /// </summary>
    ValueTask<bool> WriteAsync(StreamEvent item, CancellationToken cancellationToken);

    /// <summary>The stream ended without its final event: tell the client rather than let it take a truncated answer for a whole one.</summary>
    ValueTask WriteTruncatedAsync(CancellationToken cancellationToken);
}

/// <summary>How a stream ended, as the sink saw it.</summary>
public enum StreamOutcome
{
    /// <summary>The final event (<see cref="StreamCompleted"/>) was written.</summary>
    Completed,
    /// <summary>A <see cref="StreamFailed"/> was written: the client got the error in its protocol.</summary>
    Failed,
    /// <summary>The events ended without a final one, and the client was told.</summary>
    Truncated,
    /// <summary>The client went away (its writes failed or the writer said so).</summary>
    ClientGone,
    /// <summary>The caller's cancellation token fired (client disconnect, a cancel frame, a deadline).</summary>
    Cancelled,
}

/// <summary>
/// The Akka.Streams sink a routed stream runs into: it pulls one event, hands it to the surface's
/// <see cref="IStreamEventWriter"/>, and pulls the next only when the write has completed, so a
/// client that stops reading stops the reads from the backend. The caller's token (the client
/// left, a cancel frame, a deadline) ends it at once, even while it waits for the backend; ending
/// cancels the source, which frees the backend slot. Materializes to the stream's
/// <see cref="StreamOutcome"/>.
/// </summary>
public sealed class StreamEventSink : GraphStageWithMaterializedValue<SinkShape<StreamEvent>, Task<StreamOutcome>>
{
    private readonly IStreamEventWriter _writer;
    private readonly CancellationToken _cancellationToken;

    public StreamEventSink(IStreamEventWriter writer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(writer);
        _writer = writer;
        _cancellationToken = cancellationToken;
        Shape = new SinkShape<StreamEvent>(In);
    }

    public Inlet<StreamEvent> In { get; } = new("client-writer.in");

    public override SinkShape<StreamEvent> Shape { get; }

    protected override Attributes InitialAttributes { get; } = Attributes.CreateName("client-writer");

    public override ILogicAndMaterializedValue<Task<StreamOutcome>> CreateLogicAndMaterializedValue(Attributes inheritedAttributes)
    {
        var outcome = new TaskCompletionSource<StreamOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        return new LogicAndMaterializedValue<Task<StreamOutcome>>(new Logic(this, outcome), outcome.Task);
    }

    private sealed class Logic : InGraphStageLogic
    {
        private readonly IStreamEventWriter _writer;
        private readonly CancellationToken _token;
        private readonly Inlet<StreamEvent> _in;
        private readonly TaskCompletionSource<StreamOutcome> _outcome;
        private Action<(bool Written, Exception? Error)>? _onWritten;
        private Action? _onCancelled;
        private CancellationTokenRegistration _registration;
        // The outcome once the event being written has gone out: the final event's, else null (pull again).
        private StreamOutcome? _afterWrite;
        private bool _writing;
        private bool _upstreamEnded;

        public Logic(StreamEventSink stage, TaskCompletionSource<StreamOutcome> outcome)
            : base(stage.Shape)
        {
            _writer = stage._writer;
            _token = stage._cancellationToken;
            _in = stage.In;
            _outcome = outcome;
            SetHandler(_in, this);
        }

        public override void PreStart()
        {
            _onWritten = GetAsyncCallback<(bool, Exception?)>(OnWritten);
            _onCancelled = GetAsyncCallback(() => Finish(StreamOutcome.Cancelled));
            if (_token.IsCancellationRequested)
            {
                Finish(StreamOutcome.Cancelled);
                return;
            }

            _registration = _token.UnsafeRegister(static state => ((Action)state!)(), _onCancelled);
            Pull(_in);
        }

        public override void OnPush()
        {
            var item = Grab(_in);
            _afterWrite = item switch
            {
                StreamCompleted => StreamOutcome.Completed,
                StreamFailed => StreamOutcome.Failed,
                _ => null,
            };
            ValueTask<bool> pending;
            try
            {
                pending = _writer.WriteAsync(item, _token);
            }
#pragma warning disable CA1031 // A write that throws at once (a pipe flushed with a cancelled token, a gone connection) is the client's problem, reported as the outcome; thrown out of the stage, Akka would log it as the stage's error.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                OnWritten((false, ex));
                return;
            }

            Write(pending);
        }

        public override void OnUpstreamFinish()
        {
            // After the final event the source completes too; only a stream without one is truncated.
            _upstreamEnded = true;
            if (!_writing && _afterWrite is null)
            {
                WriteTruncated();
            }
        }

        public override void OnUpstreamFailure(Exception e)
        {
            _outcome.TrySetException(e);
            FailStage(e);
        }

        private void Write(ValueTask<bool> pending)
        {
            if (pending.IsCompletedSuccessfully)
            {
                OnWritten((pending.Result, null));
                return;
            }

            _writing = true;
            var awaiter = pending.GetAwaiter();
            awaiter.UnsafeOnCompleted(() => Resume(awaiter));
        }

        private void Resume(ValueTaskAwaiter<bool> awaiter)
        {
            try
            {
                _onWritten!((awaiter.GetResult(), null));
            }
#pragma warning disable CA1031 // A failed write is the client's problem, reported as the outcome.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                _onWritten!((false, ex));
            }
        }

        private void OnWritten((bool Written, Exception? Error) result)
        {
            _writing = false;
            if (result.Error is OperationCanceledException || _token.IsCancellationRequested)
            {
                Finish(StreamOutcome.Cancelled);
            }
            else if (result.Error is not null || !result.Written)
            {
                Finish(StreamOutcome.ClientGone);
            }
            else if (_afterWrite is { } final)
            {
                Finish(final);
            }
            else if (_upstreamEnded)
            {
                WriteTruncated();
            }
            else
            {
                Pull(_in);
            }
        }

        private void WriteTruncated()
        {
            _writing = true;
            _afterWrite = StreamOutcome.Truncated;
            ValueTask pending;
            try
            {
                pending = _writer.WriteTruncatedAsync(_token);
            }
#pragma warning disable CA1031 // As in OnPush.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                OnWritten((false, ex));
                return;
            }

            if (pending.IsCompletedSuccessfully)
            {
                OnWritten((true, null));
                return;
            }

            var awaiter = pending.GetAwaiter();
            awaiter.UnsafeOnCompleted(() =>
            {
                try
                {
                    awaiter.GetResult();
                    _onWritten!((true, null));
                }
#pragma warning disable CA1031 // As above.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    _onWritten!((false, ex));
                }
            });
        }

        private void Finish(StreamOutcome outcome)
        {
            _outcome.TrySetResult(outcome);
            // Cancels the source if it still runs: the backend call stops and its slot is freed.
            CompleteStage();
        }

        public override void PostStop()
        {
            _registration.Dispose();
            _outcome.TrySetResult(StreamOutcome.Cancelled);
        }
    }
}
