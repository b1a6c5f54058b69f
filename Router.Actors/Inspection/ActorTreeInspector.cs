using System.Collections.Immutable;
using System.Text;
using Akka.Actor;
using Akka.Dispatch;

namespace Router.Actors.Inspection;

/// <summary>
/// Walks the live Akka actor tree: for each actor its path, class, mailbox, messages waiting, and
/// (from the <see cref="FailureJournal"/>) its restarts and last failure. What <c>pbm</c>'s actor
/// hierarchy shows, for <c>/actors</c> and <c>ollama-proxy actors</c>.
/// </summary>
public static class ActorTreeInspector
{
    /// <summary>The subtree the CLI shows by default: the router's own actors.</summary>
    public const string DefaultPath = "/user";

    /// <summary>Takes a snapshot of the subtree at <paramref name="path"/> (<c>/</c>, <c>/user</c>, <c>/user/backends</c> …); null when no actor lives there.</summary>
    public static ActorTreeSnapshot? Inspect(ActorSystem system, string path = DefaultPath)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(path);
        var extended = (ExtendedActorSystem)system;
        IActorRef? node = extended.Provider.RootGuardian;
        foreach (var name in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            node = node is ActorRefWithCell parent ? Child(parent, name) : null;
            if (node is null)
            {
                return null;
            }
        }

        var journal = FailureJournal.Get(system);
        return new ActorTreeSnapshot(Describe(system, node, journal), DateTimeOffset.UtcNow, journal.DeadLetters);
    }

    private static IActorRef? Child(ActorRefWithCell parent, string name)
    {
        foreach (var child in parent.Children)
        {
            if (child.Path.Name == name)
            {
                return child;
            }
        }

        return null;
    }

    private static ActorNodeSnapshot Describe(ActorSystem system, IActorRef actor, FailureJournal journal)
    {
        var path = actor.Path.ToStringWithoutAddress();
        var failures = journal.For(actor.Path.ToString());
        if (actor is not ActorRefWithCell { Underlying: var cell } withCell)
        {
            return new ActorNodeSnapshot(path, actor.GetType().Name, "", 0, failures?.Restarts ?? 0, failures?.LastFailure, failures?.At, []);
        }

        var children = ImmutableArray.CreateBuilder<ActorNodeSnapshot>();
        foreach (var child in withCell.Children.OrderBy(c => c.Path.Name, StringComparer.Ordinal))
        {
            children.Add(Describe(system, child, journal));
        }

        return new ActorNodeSnapshot(
            path,
            TypeName(cell.Props.Type ?? actor.GetType()),
            MailboxName(system, cell),
            cell.NumberOfMessages,
            failures?.Restarts ?? 0,
            failures?.LastFailure,
            failures?.At,
            children.ToImmutable());
    }

    /// <summary>The class of the mailbox its props name (e.g. <c>BackendMailbox</c>), else of the default mailbox.</summary>
    private static string MailboxName(ActorSystem system, ICell cell)
    {
        var id = cell.Props.Mailbox is { Length: > 0 } configured ? configured : Mailboxes.DefaultMailboxId;
        return system.Mailboxes.Lookup(id)?.GetType().Name ?? "";
    }

    /// <summary><c>EventCallbackActor&lt;BackendSnapshot&gt;</c> rather than <c>EventCallbackActor`1</c>.</summary>
    private static string TypeName(Type type)
    {
        if (!type.IsGenericType)
        {
            return type.Name;
        }

        var name = new StringBuilder(type.Name, 0, type.Name.IndexOf('`', StringComparison.Ordinal), 64).Append('<');
        var arguments = type.GetGenericArguments();
        for (var i = 0; i < arguments.Length; i++)
        {
            name.Append(i == 0 ? "" : ", ").Append(TypeName(arguments[i]));
        }

        return name.Append('>').ToString();
    }
}
