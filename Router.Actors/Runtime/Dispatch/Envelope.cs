namespace Router.Actors.Runtime.Dispatch;

/// <summary>A user message and its sender, stored by value in the queues so a tell allocates nothing.</summary>
internal readonly struct Envelope
{
    public Envelope(object message, IActorRef? sender)
    {
        Message = message;
        Sender = sender;
    }

    public object Message { get; }

    public IActorRef? Sender { get; }
}
