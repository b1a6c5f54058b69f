using Router.Actors.Backends;
using Router.Actors.Routing;

namespace Router.Tests.Backends;

public sealed class BackendMailboxTests
{
    public static TheoryData<object, int> Levels => new()
    {
        { ProbeNow.Instance, 0 },
        { GetBackendSnapshot.Instance, 0 },
        { new TicketCancelled(Ticket(Priority.BestEffort)), 0 },
        { Ticket(Priority.Critical), 1 },
        { Ticket(Priority.High), 2 },
        { Ticket(Priority.Normal), 3 },
        { Ticket(Priority.BestEffort), 4 },
    };

    [Theory]
    [MemberData(nameof(Levels))]
    public void Level_ControlBeforeTicketsAndTicketsByPriority(object message, int expected) =>
        Assert.Equal(expected, BackendMailbox.Level(message));

    private static SlotTicket Ticket(Priority priority) => new(Akka.Actor.ActorRefs.Nobody, priority, null, 0);
}
