namespace Router.Actors.Runtime;

/// <summary>Settings of an <see cref="ActorSystem"/>; immutable, change with <c>with</c>.</summary>
public sealed record ActorSystemOptions
{
    public static readonly ActorSystemOptions Default = new();

    /// <summary>The clock behind the scheduler, ask timeouts, restart windows and mailbox aging.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>User messages an actor processes per turn on a thread before it yields the thread.</summary>
    public int Throughput { get; init; } = 100;

    /// <summary>Ask timeout when the caller gives none.</summary>
    public TimeSpan DefaultAskTimeout { get; init; } = TimeSpan.FromSeconds(10);
}
