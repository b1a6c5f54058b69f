using System.Collections.Immutable;

namespace Router.Actors.Runtime;

/// <summary>The actor tree at one moment, for the CLI and the admin API.</summary>
public sealed record ActorTreeSnapshot(ActorNodeSnapshot Root, DateTimeOffset TakenAt, long DeadLetters);

/// <summary>One actor: where it is, what it is, how busy its mailbox is and how it has been failing.</summary>
public sealed record ActorNodeSnapshot(
    string Path,
    string ActorType,
    string MailboxKind,
    ImmutableArray<LaneDepth> Lanes,
    long MessagesProcessed,
    int Restarts,
    string? LastFailure,
    DateTimeOffset? LastFailureAt,
    ImmutableArray<ActorNodeSnapshot> Children);

/// <summary>Messages waiting in one lane: "system", then "critical", "high", "normal", "best-effort" (priority) or "user" (fifo).</summary>
public sealed record LaneDepth(string Lane, int Depth);
