namespace Router.Actors.Runtime;

/// <summary><c>/deadLetters</c>: everything told to it is counted and published as a <see cref="DeadLetter"/>.</summary>
internal sealed class DeadLetterActorRef : IInternalActorRef
{
    private readonly ActorSystem _system;

    internal DeadLetterActorRef(ActorSystem system)
    {
        _system = system;
        Path = ActorPath.Root.Child("deadLetters");
    }

    public ActorPath Path { get; }

    public ActorSystem System => _system;

    public void Tell(object message, IActorRef? sender = null)
    {
        if (message is null)
        {
            ThrowHelper.ThrowMessageNull();
        }

        if (message is DeadLetter letter)
        {
            _system.RecordDeadLetter(letter.Message, letter.Sender, letter.Recipient);
        }
        else
        {
            _system.RecordDeadLetter(message, sender, this);
        }
    }

    public bool Equals(IActorRef? other) => ReferenceEquals(this, other);

    public override bool Equals(object? obj) => ReferenceEquals(this, obj);

    public override int GetHashCode() => global::System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(this);

    public override string ToString() => Path.ToString();
}
