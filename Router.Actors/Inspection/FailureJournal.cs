using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Event;

namespace Router.Actors.Inspection;

/// <summary>
/// Remembers, per actor path, how often its supervisor restarted or replaced it and why, and counts
/// the dead letters: what Petabridge.Cmd's actor listing shows, which Akka does not keep itself.
/// It listens on the event stream: a supervisor strategy publishes an <see cref="Error"/> for every
/// failure it restarts or stops (its log source is the child's path), and undeliverable messages
/// are published as <see cref="DeadLetter"/>. An Akka extension, one per actor system.
/// </summary>
public sealed class FailureJournal : IExtension
{
    private readonly ConcurrentDictionary<string, Entry> _byPath = new(StringComparer.Ordinal);
    private long _deadLetters;

    /// <summary>A failure of one actor: how many so far, and the latest.</summary>
    public sealed record Entry(int Restarts, string LastFailure, DateTimeOffset At);

    public static FailureJournal Get(ActorSystem system) => system.WithExtension<FailureJournal, FailureJournalProvider>();

    public long DeadLetters => Interlocked.Read(ref _deadLetters);

    public Entry? For(string path) => _byPath.TryGetValue(path, out var entry) ? entry : null;

    internal void RecordFailure(string path, string failure, DateTimeOffset at) =>
        _byPath.AddOrUpdate(path, static (_, f) => new Entry(1, f.failure, f.at),
            static (_, entry, f) => new Entry(entry.Restarts + 1, f.failure, f.at), (failure, at));

    internal void CountDeadLetter() => Interlocked.Increment(ref _deadLetters);

    internal void Start(ExtendedActorSystem system)
    {
        var listener = system.SystemActorOf(Props.Create(() => new Listener(this)), "failure-journal");
        // Subscribed by the creator, so nothing published while the listener starts is missed.
        system.EventStream.Subscribe(listener, typeof(Error));
        system.EventStream.Subscribe(listener, typeof(DeadLetter));
    }

    private sealed class Listener : ReceiveActor
    {
        public Listener(FailureJournal journal)
        {
            Receive<Error>(e =>
            {
                // Only a supervisor's report of a child's failure: its class is a strategy.
                if (e.Cause is not null && typeof(SupervisorStrategy).IsAssignableFrom(e.LogClass))
                {
                    var cause = e.Cause is ActorInitializationException { InnerException: { } inner } ? inner : e.Cause;
                    journal.RecordFailure(e.LogSource, $"{cause.GetType().Name}: {cause.Message}", new DateTimeOffset(DateTime.SpecifyKind(e.Timestamp, DateTimeKind.Utc)));
                }
            });
            Receive<DeadLetter>(_ => journal.CountDeadLetter());
        }
    }
}

/// <summary>Creates the <see cref="FailureJournal"/> of an actor system and starts its listener.</summary>
public sealed class FailureJournalProvider : ExtensionIdProvider<FailureJournal>
{
    public override FailureJournal CreateExtension(ExtendedActorSystem system)
    {
        ArgumentNullException.ThrowIfNull(system);
        var journal = new FailureJournal();
        journal.Start(system);
        return journal;
    }
}
