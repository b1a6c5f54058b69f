namespace Router.Actors.Runtime;

/// <summary>
/// How to create an actor: its type, a factory, its mailbox and the strategy it uses for its own
/// children. Immutable; the runtime calls the factory again on every restart, so the factory must
/// return a new instance each time.
/// </summary>
public sealed record Props
{
    private Props(Type actorType, Func<ActorBase> factory)
    {
        ActorType = actorType;
        Factory = factory;
    }

    public Type ActorType { get; }

    public MailboxOptions Mailbox { get; private init; } = FifoMailboxOptions.Instance;

    /// <summary>Overrides <c>ActorBase.SupervisorStrategy()</c> for the actor's children; null keeps the actor's own.</summary>
    public SupervisorStrategy? SupervisorStrategy { get; private init; }

    internal Func<ActorBase> Factory { get; }

    public static Props Create<TActor>()
        where TActor : ActorBase, new()
        => new(typeof(TActor), static () => new TActor());

    public static Props Create<TActor>(Func<TActor> factory)
        where TActor : ActorBase
    {
        ArgumentNullException.ThrowIfNull(factory);
        return new Props(typeof(TActor), factory);
    }

    public Props WithMailbox(MailboxOptions mailbox)
    {
        ArgumentNullException.ThrowIfNull(mailbox);
        if (mailbox is PriorityMailboxOptions priority)
        {
            priority.Validate();
        }

        return this with { Mailbox = mailbox };
    }

    public Props WithSupervisorStrategy(SupervisorStrategy strategy)
    {
        ArgumentNullException.ThrowIfNull(strategy);
        return this with { SupervisorStrategy = strategy };
    }
}
