using Akka.Actor;
using Akka.Event;

namespace Router.Actors.Backends;

/// <summary>
/// Answers the admission tickets that reached no backend actor. A request sends its ticket to the
/// incarnation it found running; if that incarnation stopped in between (it failed and waits out
/// its back-off, or the daemon is stopping) the ticket lands in dead letters, and without an
/// answer the request would wait forever. Here it is rejected instead, so the request falls back
/// to the next backend at once.
/// </summary>
public sealed class UndeliveredTicketRejecter : ReceiveActor
{
    public const string Name = "undelivered-tickets";

    /// <summary>How long a rejected request is told to wait before retrying this backend.</summary>
    internal static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(1);

    public UndeliveredTicketRejecter() =>
        Receive<DeadLetter>(letter =>
        {
            if (letter.Message is SlotTicket ticket)
            {
                ticket.Reject($"the backend's actor at {letter.Recipient.Path} is restarting", RetryAfter, queueFull: false);
            }
        });

    /// <summary>Subscribes <paramref name="rejecter"/> to dead letters; done by its creator, so no letter is missed while it starts.</summary>
    public static void Subscribe(ActorSystem system, IActorRef rejecter)
    {
        ArgumentNullException.ThrowIfNull(system);
        system.EventStream.Subscribe(rejecter, typeof(DeadLetter));
    }
}
