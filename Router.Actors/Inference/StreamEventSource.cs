using System.Runtime.CompilerServices;
using Akka.Streams;
using Akka.Streams.Stage;
using Router.Actors.Backends;

namespace Router.Actors.Inference;

/// <summary>
/// The Akka.Streams source of one routed stream: emits its events as the backend's bounded channel
/// yields them, one per pull, so a downstream that stops pulling stops the reads from the backend
/// socket. Completes after the final event (<see cref="StreamCompleted"/> or <see cref="StreamFailed"/>).
/// Cancelled by its downstream (the client left), or stopped in any other way, it disposes the
/// stream: the backend call is cancelled and the slot freed at once.
/// </summary>
internal sealed class StreamEventSource : GraphStage<SourceShape<StreamEvent>>
{
    private readonly InferenceStream _stream;

    public StreamEventSource(InferenceStream stream)
    {
        _stream = stream;
        Shape = new SourceShape<StreamEvent>(Out);
    }

    public Outlet<StreamEvent> Out { get; } = new("backend-events.out");

    public override SourceShape<StreamEvent> Shape { get; }

    protected override Attributes InitialAttributes { get; } = Attributes.CreateName("backend-events");

    protected override GraphStageLogic CreateLogic(Attributes inheritedAttributes) => new Logic(this);

    private sealed class Logic : OutGraphStageLogic
    {
        private readonly InferenceStream _stream;
        private readonly Outlet<StreamEvent> _out;
        private Action<bool>? _onReadable;
        private Action<Exception>? _onReadFailed;

        public Logic(StreamEventSource stage)
            : base(stage.Shape)
        {
            _stream = stage._stream;
            _out = stage.Out;
            SetHandler(_out, this);
        }

        public override void PreStart()
        {
            _onReadable = GetAsyncCallback<bool>(OnReadable);
            _onReadFailed = GetAsyncCallback<Exception>(FailStage);
        }

        public override void OnPull()
        {
            while (true)
            {
                if (_stream.TryRead(out var item))
                {
                    Emit(item);
                    return;
                }

                var wait = _stream.WaitToReadAsync();
                if (!wait.IsCompleted)
                {
                    // Resumed on the thread that wrote the event (the backend's reader) and handed to
                    // the stage's actor from there: one hop, not two through the thread pool.
                    var awaiter = wait.GetAwaiter();
                    awaiter.UnsafeOnCompleted(() => Resume(awaiter));
                    return;
                }

                if (!wait.Result)
                {
                    // Ended without its final event; the sink says so to the client.
                    CompleteStage();
                    return;
                }
            }
        }

        private void Resume(ValueTaskAwaiter<bool> awaiter)
        {
            bool readable;
            try
            {
                readable = awaiter.GetResult();
            }
#pragma warning disable CA1031 // Handed to the stage as its failure.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                _onReadFailed!(ex);
                return;
            }

            _onReadable!(readable);
        }

        private void OnReadable(bool readable)
        {
            if (readable)
            {
                OnPull();
            }
            else
            {
                CompleteStage();
            }
        }

        private void Emit(StreamEvent item)
        {
            Push(_out, item);
            if (item is StreamCompleted or StreamFailed)
            {
                CompleteStage();
            }
        }

        // Ended, cancelled by the client, or failed: either way the slot is released now. After the
        // final event the stream has released it already, and this only frees its token.
        public override void PostStop() => _stream.Abort();
    }
}
