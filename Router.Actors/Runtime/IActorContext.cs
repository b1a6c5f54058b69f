namespace Router.Actors.Runtime;

/// <summary>What an actor can see and do about itself; use it only from the actor's own handlers.</summary>
public interface IActorContext
{
    IActorRef Self { get; }

    /// <summary>The sender of the message being processed; <see cref="ActorSystem.DeadLetters"/> when there is none.</summary>
    IActorRef Sender { get; }

    IActorRef Parent { get; }

    ActorSystem System { get; }

    TimeProvider TimeProvider { get; }

    IScheduler Scheduler { get; }

    IReadOnlyCollection<IActorRef> Children { get; }

    /// <summary>Creates a child; names are unique among siblings (<see cref="InvalidActorNameException"/> otherwise).</summary>
    IActorRef ActorOf(Props props, string name);

    /// <summary>Stops the actor (a child, or this actor itself) after the message it is processing.</summary>
    void Stop(IActorRef actor);

    /// <summary>Asks for one <see cref="Terminated"/> when <paramref name="actor"/> stops (at once if it already has).</summary>
    IActorRef Watch(IActorRef actor);

    IActorRef Unwatch(IActorRef actor);

    IActorRef? Child(string name);
}
