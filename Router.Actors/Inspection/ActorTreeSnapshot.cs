using System.Collections.Immutable;

namespace Router.Actors.Inspection;

/// <summary>The actor tree (or a subtree of it) at one moment, for the CLI and the admin API.</summary>
/// <param name="DeadLetters">Messages that reached no actor since the system started (expected ones, such as a release sent to a restarted backend's old incarnation, are not counted).</param>
public sealed record ActorTreeSnapshot(ActorNodeSnapshot Root, DateTimeOffset TakenAt, long DeadLetters);

/// <summary>One actor: where it is, what it is, how busy its mailbox is and how it has been failing.</summary>
/// <param name="ActorType">The actor's class (generic arguments spelled out).</param>
/// <param name="MailboxType">The class of its message queue's mailbox (<c>UnboundedMailbox</c> unless configured).</param>
/// <param name="MessagesWaiting">Messages in its mailbox when the snapshot was taken.</param>
/// <param name="Restarts">Times its supervisor restarted (or, under a back-off supervisor, replaced) it since the system started.</param>
public sealed record ActorNodeSnapshot(
    string Path,
    string ActorType,
    string MailboxType,
    int MessagesWaiting,
    int Restarts,
    string? LastFailure,
    DateTimeOffset? LastFailureAt,
    ImmutableArray<ActorNodeSnapshot> Children);
