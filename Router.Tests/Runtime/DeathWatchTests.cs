using Router.Actors.Routing;
using Router.Actors.Runtime;
using Router.Tests.TestKit;

namespace Router.Tests.Runtime;

public sealed class DeathWatchTests : ActorTestBase
{
    [Fact]
    public void Watch_ActorStops_TerminatedDeliveredExactlyOnce()
    {
        var probe = CreateTestProbe();
        IActorRef target = Sys.ActorOf(Props.Create<Idle>(), "target");
        probe.Watch(target);
        probe.Watch(target);

        target.Tell(PoisonPill.Instance);
        target.Tell(PoisonPill.Instance);

        Assert.Equal(target, probe.ExpectMsg<Terminated>().Actor);
        probe.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void Watch_AlreadyDeadActor_TerminatedDeliveredExactlyOnce()
    {
        var first = CreateTestProbe();
        IActorRef target = Sys.ActorOf(Props.Create<Idle>(), "target");
        first.Watch(target);
        target.Tell(PoisonPill.Instance);
        first.ExpectMsg<Terminated>();

        var late = CreateTestProbe();
        late.Watch(target);

        Assert.Equal(target, late.ExpectMsg<Terminated>().Actor);
        late.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void Unwatch_BeforeStop_NoTerminated()
    {
        var probe = CreateTestProbe();
        var other = CreateTestProbe();
        IActorRef target = Sys.ActorOf(Props.Create<Idle>(), "target");
        probe.Watch(target);
        other.Watch(target);
        probe.Unwatch(target);

        target.Tell(PoisonPill.Instance);

        other.ExpectMsg<Terminated>();
        probe.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void Watch_FromAnActor_ItsHandlerReceivesTerminated()
    {
        var probe = CreateTestProbe();
        IActorRef target = Sys.ActorOf(Props.Create<Idle>(), "target");
        Sys.ActorOf(Props.Create(() => new Watcher(target, probe.Ref)), "watcher");
        probe.ExpectMsg<string>(predicate: s => s == "watching");

        Sys.ActorOf(Props.Create<Idle>(), "unrelated").Tell(PoisonPill.Instance);
        target.Tell(PoisonPill.Instance);

        Assert.Equal(target, probe.ExpectMsg<Terminated>().Actor);
        probe.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void Stop_ViaContext_StopsTheChildAndTellsTheParentsWatchers()
    {
        var probe = CreateTestProbe();
        IActorRef parent = Sys.ActorOf(Props.Create(() => new StoppingParent(probe.Ref)), "parent");
        IActorRef child = probe.ExpectMsg<IActorRef>();
        probe.Watch(child);

        parent.Tell("stop-child");

        Assert.Equal(child, probe.ExpectMsg<Terminated>().Actor);
        parent.Tell("count");
        Assert.Equal(0, probe.ExpectMsg<int>());
    }

    private sealed class Idle : ReceiveActor
    {
        public Idle() => ReceiveAny(_ => { });
    }

    private sealed class Watcher : ReceiveActor
    {
        public Watcher(IActorRef target, IActorRef probe)
        {
            Context.Watch(target);
            Receive<Terminated>(terminated => probe.Tell(terminated));
            probe.Tell("watching");
        }
    }

    private sealed class StoppingParent : ReceiveActor
    {
        public StoppingParent(IActorRef probe)
        {
            IActorRef child = Context.ActorOf(Props.Create<Idle>(), "child");
            Context.Watch(child);
            probe.Tell(child);
            Receive<string>(s => s == "stop-child", _ => Context.Stop(child));
            Receive<string>(s => s == "count", _ => probe.Tell(Context.Children.Count));
            Receive<Terminated>(_ => { });
        }
    }
}
