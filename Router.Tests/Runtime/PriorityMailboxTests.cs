using Router.Actors.Routing;
using Router.Actors.Runtime;
using Router.Tests.TestKit;

namespace Router.Tests.Runtime;

public sealed class PriorityMailboxTests() : ActorTestBase(manualClock: true)
{
    [Fact]
    public void Tell_BacklogBehindBusyActor_ProcessedByPriorityThenArrival()
    {
        var probe = CreateTestProbe();
        var gate = new TaskCompletionSource();
        IActorRef actor = Sys.ActorOf(Props.Create(() => new Recorder(probe.Ref, gate.Task)).WithMailbox(new PriorityMailboxOptions()), "backend");
        actor.Tell(new Job("block", Priority.Normal));
        probe.ExpectMsg<string>(predicate: s => s == "block");

        actor.Tell(new Job("be1", Priority.BestEffort));
        actor.Tell(new Job("n1", Priority.Normal));
        actor.Tell(new Job("h1", Priority.High));
        actor.Tell(new Job("c1", Priority.Critical));
        actor.Tell(new Job("be2", Priority.BestEffort));
        actor.Tell(new Job("c2", Priority.Critical));
        actor.Tell("plain");
        actor.Tell(new Job("h2", Priority.High));
        gate.SetResult();

        Assert.Equal(["c1", "c2", "h1", "h2", "n1", "plain", "be1", "be2"], probe.ReceiveN<string>(8));
    }

    [Fact]
    public void Tell_BestEffortUnderConstantCriticalLoad_ServedOnceAged()
    {
        var probe = CreateTestProbe();
        var gate = new TaskCompletionSource();
        var options = new PriorityMailboxOptions { AgingInterval = TimeSpan.FromSeconds(5) };
        IActorRef actor = Sys.ActorOf(Props.Create(() => new Recorder(probe.Ref, gate.Task)).WithMailbox(options), "backend");
        actor.Tell(new Job("block", Priority.Normal));
        probe.ExpectMsg<string>();

        // Best effort waits while critical work keeps arriving, one interval at a time.
        actor.Tell(new Job("be", Priority.BestEffort));
        Clock.Advance(TimeSpan.FromSeconds(5));
        for (int i = 0; i < 4; i++)
        {
            actor.Tell(new Job($"c{i}", Priority.Critical));
            Clock.Advance(TimeSpan.FromSeconds(5));
        }

        actor.Tell(new Job("c-late", Priority.Critical));
        gate.SetResult();

        // After three intervals "be" competes as critical and is older than every critical message.
        Assert.Equal(["be", "c0", "c1", "c2", "c3", "c-late"], probe.ReceiveN<string>(6));
    }

    [Fact]
    public void Tell_BoundedLaneFull_SenderGetsMailboxRejectedAndMessageIsNotProcessed()
    {
        var probe = CreateTestProbe();
        var sender = CreateTestProbe();
        var gate = new TaskCompletionSource();
        var options = new PriorityMailboxOptions { LaneBounds = [2, 0, 0, 0] };
        IActorRef actor = Sys.ActorOf(Props.Create(() => new Recorder(probe.Ref, gate.Task)).WithMailbox(options), "backend");
        actor.Tell(new Job("block", Priority.Normal));
        probe.ExpectMsg<string>();

        sender.Send(actor, new Job("be1", Priority.BestEffort));
        sender.Send(actor, new Job("be2", Priority.BestEffort));
        var overflow = new Job("be3", Priority.BestEffort);
        sender.Send(actor, overflow);

        MailboxRejected rejected = sender.ExpectMsg<MailboxRejected>();
        Assert.Same(overflow, rejected.Message);
        Assert.Equal(Priority.BestEffort, rejected.Lane);
        Assert.Equal(2, rejected.Bound);
        Assert.Equal(actor, sender.LastSender);

        gate.SetResult();
        Assert.Equal(["be1", "be2"], probe.ReceiveN<string>(2));
        probe.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void Tell_BoundedLaneFullWithoutSender_GoesToDeadLetters()
    {
        var probe = CreateTestProbe();
        var listener = CreateTestProbe();
        Sys.EventStream.Subscribe<DeadLetter>(listener.Ref);
        var gate = new TaskCompletionSource();
        var options = new PriorityMailboxOptions { LaneBounds = [0, 0, 0, 1] };
        IActorRef actor = Sys.ActorOf(Props.Create(() => new Recorder(probe.Ref, gate.Task)).WithMailbox(options), "backend");
        actor.Tell(new Job("block", Priority.Normal));
        probe.ExpectMsg<string>();

        actor.Tell(new Job("c1", Priority.Critical));
        actor.Tell(new Job("c2", Priority.Critical));

        Assert.Equal("c2", ((Job)listener.ExpectMsg<DeadLetter>().Message).Name);
        gate.SetResult();
    }

    [Fact]
    public void SystemMessages_BehindUserBacklog_RunFirst()
    {
        var probe = CreateTestProbe();
        var gate = new TaskCompletionSource();
        IActorRef actor = Sys.ActorOf(Props.Create(() => new Recorder(probe.Ref, gate.Task)).WithMailbox(new PriorityMailboxOptions()), "backend");
        actor.Tell(new Job("block", Priority.Normal));
        probe.ExpectMsg<string>();
        for (int i = 0; i < 100; i++)
        {
            actor.Tell(new Job($"c{i}", Priority.Critical));
        }

        var watcher = CreateTestProbe();
        watcher.Watch(actor);
        Sys.ActorOf(Props.Create(() => new Stopper(actor, watcher.Ref)), "stopper");
        watcher.ExpectMsg<string>(predicate: s => s == "stop-sent");
        gate.SetResult();

        // The stop overtakes the whole critical backlog: nothing more is processed.
        watcher.ExpectMsg<Terminated>();
        probe.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    internal sealed record Job(string Name, Priority Priority) : IPriorityMessage;

    private sealed class Recorder : ReceiveActor
    {
        public Recorder(IActorRef probe, Task gate)
        {
            ReceiveAsync<Job>(async job =>
            {
                probe.Tell(job.Name);
                if (job.Name == "block")
                {
                    await gate;
                }
            });
            Receive<string>(s => probe.Tell(s));
        }
    }

    private sealed class Stopper : ReceiveActor
    {
        public Stopper(IActorRef target, IActorRef probe)
        {
            Context.Stop(target);
            probe.Tell("stop-sent");
        }
    }
}
