using Router.Actors.Routing;
using Router.Actors.Runtime;
using Router.Tests.TestKit;

namespace Router.Tests.Runtime;

public sealed class SupervisionTests() : ActorTestBase(manualClock: true)
{
    [Fact]
    public void Restart_AfterFailure_RecreatesStateAndKeepsQueuedMessages()
    {
        var probe = CreateTestProbe();
        var gate = new ManualResetEventSlim();
        IActorRef counter = Sys.ActorOf(Props.Create(() => new CountingActor(probe.Ref, gate)), "counter");

        // Queue a backlog behind a blocked message, with a failure in the middle.
        counter.Tell("block");
        counter.Tell("inc");
        counter.Tell("inc");
        counter.Tell("fail");
        counter.Tell("inc");
        counter.Tell("get");
        gate.Set();

        Assert.Equal("started:1", probe.ExpectMsg<string>());
        Assert.Equal("started:2", probe.ExpectMsg<string>());

        // The new instance starts at 0, and the messages queued after the failure were kept.
        Assert.Equal(1, probe.ExpectMsg<int>());
    }

    [Fact]
    public void Resume_AfterFailure_KeepsState()
    {
        var probe = CreateTestProbe();
        var strategy = new OneForOneStrategy(-1, Timeout.InfiniteTimeSpan, _ => Directive.Resume);
        IActorRef parent = Sys.ActorOf(
            Props.Create(() => new Parent(probe.Ref, Props.Create(() => new CountingActor(probe.Ref, null)))).WithSupervisorStrategy(strategy),
            "parent");
        IActorRef child = probe.ExpectMsg<IActorRef>();
        probe.ExpectMsg<string>(predicate: s => s == "started:1");

        child.Tell("inc");
        child.Tell("fail");
        child.Tell("inc");
        child.Tell("get");

        Assert.Equal(2, probe.ExpectMsg<int>());
        Assert.Equal(0, FindNode(Sys.Inspect().Root, "/user/parent/child")!.Restarts);
        _ = parent;
    }

    [Fact]
    public void Stop_Directive_StopsTheChild()
    {
        var probe = CreateTestProbe();
        var strategy = new OneForOneStrategy(-1, Timeout.InfiniteTimeSpan, _ => Directive.Stop);
        Sys.ActorOf(Props.Create(() => new Parent(probe.Ref, Props.Create(() => new CountingActor(probe.Ref, null)))).WithSupervisorStrategy(strategy), "parent");
        IActorRef child = probe.ExpectMsg<IActorRef>();
        probe.ExpectMsg<string>();
        probe.Watch(child);

        child.Tell("fail");

        Assert.Equal(child, probe.ExpectMsg<Terminated>().Actor);
    }

    [Fact]
    public void Escalate_ChildFailure_ReachesTheGrandparentsStrategy()
    {
        var probe = CreateTestProbe();
        var seen = new List<Exception>();
        var topStrategy = new OneForOneStrategy(-1, Timeout.InfiniteTimeSpan, ex =>
        {
            lock (seen)
            {
                seen.Add(ex);
            }

            probe.Ref.Tell("grandparent-decided:" + ex.Message);
            return Directive.Stop;
        });
        var escalate = new OneForOneStrategy(-1, Timeout.InfiniteTimeSpan, _ => Directive.Escalate);
        Props leaf = Props.Create(() => new CountingActor(probe.Ref, null));
        Props middle = Props.Create(() => new Parent(probe.Ref, leaf)).WithSupervisorStrategy(escalate);
        Sys.ActorOf(Props.Create(() => new Parent(probe.Ref, middle)).WithSupervisorStrategy(topStrategy), "top");
        IActorRef middleRef = probe.ExpectMsg<IActorRef>();
        IActorRef leafRef = probe.ExpectMsg<IActorRef>();
        probe.ExpectMsg<string>(predicate: s => s.StartsWith("started", StringComparison.Ordinal));
        probe.Watch(middleRef);

        leafRef.Tell("fail");

        Assert.Equal("grandparent-decided:boom", probe.FishForMessage<string>(s => s.StartsWith("grandparent", StringComparison.Ordinal)));
        Assert.Equal(middleRef, probe.FishForMessage<Terminated>(_ => true).Actor);
        Assert.IsType<InvalidOperationException>(Assert.Single(seen));
    }

    [Fact]
    public void Escalate_FromTopLevelActor_GuardianRestartsIt()
    {
        var probe = CreateTestProbe();
        var escalate = new OneForOneStrategy(-1, Timeout.InfiniteTimeSpan, _ => Directive.Escalate);
        IActorRef top = Sys.ActorOf(
            Props.Create(() => new Parent(probe.Ref, Props.Create(() => new CountingActor(probe.Ref, null)))).WithSupervisorStrategy(escalate),
            "top");
        IActorRef child = probe.ExpectMsg<IActorRef>();
        probe.ExpectMsg<string>();

        // The child escalates to "top"; top fails; the guardian's default strategy restarts top.
        child.Tell("fail");

        // Restarting top stops its old child and creates a new one.
        IActorRef recreated = probe.FishForMessage<IActorRef>(_ => true);
        Assert.Equal(child.Path, recreated.Path);
        Assert.NotEqual(child, recreated);
        Assert.Equal(1, FindNode(Sys.Inspect().Root, "/user/top")!.Restarts);
    }

    [Fact]
    public void Restart_BudgetExceededWithinWindow_StopsTheChild()
    {
        var probe = CreateTestProbe();
        var strategy = new OneForOneStrategy(2, TimeSpan.FromMinutes(1), _ => Directive.Restart);
        Sys.ActorOf(Props.Create(() => new Parent(probe.Ref, Props.Create(() => new CountingActor(probe.Ref, null)))).WithSupervisorStrategy(strategy), "parent");
        IActorRef child = probe.ExpectMsg<IActorRef>();
        probe.ExpectMsg<string>(predicate: s => s == "started:1");
        probe.Watch(child);

        child.Tell("fail");
        Assert.Equal("started:2", probe.ExpectMsg<string>());
        child.Tell("fail");
        Assert.Equal("started:3", probe.ExpectMsg<string>());
        child.Tell("fail");

        Assert.Equal(child, probe.ExpectMsg<Terminated>().Actor);
    }

    [Fact]
    public void Restart_FailuresInSeparateWindows_AreNotCountedTogether()
    {
        var probe = CreateTestProbe();
        var strategy = new OneForOneStrategy(1, TimeSpan.FromSeconds(10), _ => Directive.Restart);
        Sys.ActorOf(Props.Create(() => new Parent(probe.Ref, Props.Create(() => new CountingActor(probe.Ref, null)))).WithSupervisorStrategy(strategy), "parent");
        IActorRef child = probe.ExpectMsg<IActorRef>();
        probe.ExpectMsg<string>();

        child.Tell("fail");
        Assert.Equal("started:2", probe.ExpectMsg<string>());
        Clock.Advance(TimeSpan.FromSeconds(11));
        child.Tell("fail");

        Assert.Equal("started:3", probe.ExpectMsg<string>());
    }

    [Fact]
    public void Restart_WithBackoff_WaitsOnTheSchedulerAndDoubles()
    {
        var probe = CreateTestProbe();
        var strategy = new OneForOneStrategy(
            -1, Timeout.InfiniteTimeSpan, _ => Directive.Restart,
            new BackoffOptions(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3)));
        Sys.ActorOf(Props.Create(() => new Parent(probe.Ref, Props.Create(() => new CountingActor(probe.Ref, null)))).WithSupervisorStrategy(strategy), "parent");
        IActorRef child = probe.ExpectMsg<IActorRef>();
        probe.ExpectMsg<string>();

        // First restart: 1 s.
        child.Tell("fail");
        AwaitCondition(() => Clock.ActiveTimers == 1);
        Clock.Advance(TimeSpan.FromMilliseconds(999));
        probe.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        Clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal("started:2", probe.ExpectMsg<string>());

        // Second restart: 2 s.
        child.Tell("fail");
        AwaitCondition(() => Clock.ActiveTimers == 1);
        Clock.Advance(TimeSpan.FromMilliseconds(1999));
        probe.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        Clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal("started:3", probe.ExpectMsg<string>());

        // Third restart: 4 s, capped at 3 s.
        child.Tell("fail");
        AwaitCondition(() => Clock.ActiveTimers == 1);
        Clock.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal("started:4", probe.ExpectMsg<string>());
    }

    [Fact]
    public void Restart_Hooks_RunInOrderWithReasonAndMessage()
    {
        var probe = CreateTestProbe();
        IActorRef actor = Sys.ActorOf(Props.Create(() => new HookActor(probe.Ref)), "hooks");
        Assert.Equal("PreStart", probe.ExpectMsg<string>());

        actor.Tell("fail");

        Assert.Equal("PreRestart:boom:fail", probe.ExpectMsg<string>());
        Assert.Equal("PostStop", probe.ExpectMsg<string>());
        Assert.Equal("PostRestart:boom", probe.ExpectMsg<string>());
        Assert.Equal("PreStart", probe.ExpectMsg<string>());
    }

    [Fact]
    public void Restart_DefaultPreRestart_StopsChildrenBeforeTheNewInstance()
    {
        var probe = CreateTestProbe();
        IActorRef parent = Sys.ActorOf(Props.Create(() => new Parent(probe.Ref, Props.Create(() => new CountingActor(probe.Ref, null)))), "parent");
        IActorRef firstChild = probe.ExpectMsg<IActorRef>();
        probe.ExpectMsg<string>();
        probe.Watch(firstChild);

        parent.Tell("fail");

        // Terminated comes from the old child, the new ref from the new parent instance: two
        // senders, so either may arrive first (as in Akka). What proves the order is the name:
        // names are unique among siblings, so the new child could only take the old one's name
        // once the old one had stopped.
        Terminated? terminated = null;
        IActorRef? secondChild = null;
        while (terminated is null || secondChild is null)
        {
            switch (probe.FishForMessage<object>(m => m is Terminated or IActorRef))
            {
                case Terminated t:
                    terminated = t;
                    break;
                case IActorRef r:
                    secondChild = r;
                    break;
            }
        }

        Assert.Equal(firstChild, terminated.Actor);
        Assert.Equal(firstChild.Path, secondChild.Path);
        Assert.NotEqual(firstChild, secondChild);
    }

    [Fact]
    public void Create_ConstructorThrows_DefaultStrategyStopsTheActor()
    {
        var probe = CreateTestProbe();
        IActorRef broken = Sys.ActorOf(Props.Create<BrokenActor>(), "broken");
        probe.Watch(broken);

        Assert.Equal(broken, probe.ExpectMsg<Terminated>().Actor);
    }

    [Fact]
    public void Resume_AfterConstructorFailure_CreatesAnInstance()
    {
        var probe = CreateTestProbe();
        int attempts = 0;
        var strategy = new OneForOneStrategy(-1, Timeout.InfiniteTimeSpan, _ => Directive.Resume);
        Props flaky = Props.Create(() => Interlocked.Increment(ref attempts) == 1
            ? throw new InvalidOperationException("first attempt fails")
            : new CountingActor(probe.Ref, null));
        Sys.ActorOf(Props.Create(() => new Parent(probe.Ref, flaky)).WithSupervisorStrategy(strategy), "parent");
        IActorRef child = probe.ExpectMsg<IActorRef>();

        child.Tell("inc");
        child.Tell("get");

        Assert.StartsWith("started:", probe.ExpectMsg<string>(), StringComparison.Ordinal);
        Assert.Equal(1, probe.ExpectMsg<int>());
        Assert.Equal(2, attempts);
    }

    [Fact]
    public void Failure_Recorded_ShownByInspection()
    {
        var probe = CreateTestProbe();
        IActorRef counter = Sys.ActorOf(Props.Create(() => new CountingActor(probe.Ref, null)), "counter");
        probe.ExpectMsg<string>();

        counter.Tell("fail");
        probe.ExpectMsg<string>(predicate: s => s == "started:2");

        ActorNodeSnapshot node = FindNode(Sys.Inspect().Root, "/user/counter")!;
        Assert.Equal(1, node.Restarts);
        Assert.Equal("InvalidOperationException: boom (while processing String)", node.LastFailure);
        Assert.Equal(Clock.GetUtcNow(), node.LastFailureAt);
    }

    internal static ActorNodeSnapshot? FindNode(ActorNodeSnapshot node, string path)
    {
        if (node.Path == path)
        {
            return node;
        }

        foreach (ActorNodeSnapshot child in node.Children)
        {
            if (FindNode(child, path) is { } found)
            {
                return found;
            }
        }

        return null;
    }

    private sealed class CountingActor : ReceiveActor
    {
        private int _count;

        public CountingActor(IActorRef probe, ManualResetEventSlim? gate)
        {
            Receive<string>(s => s == "block", _ => gate?.Wait(TimeSpan.FromSeconds(10)));
            Receive<string>(s => s == "inc", _ => _count++);
            Receive<string>(s => s == "get", _ => probe.Tell(_count));
            Receive<string>(s => s == "fail", _ => throw new InvalidOperationException("boom"));
            Probe = probe;
        }

        private IActorRef Probe { get; }

        protected override void PreStart() => Probe.Tell("started:" + NextGeneration(Self));
    }

    private static readonly Dictionary<IActorRef, int> s_generations = [];

    private static int NextGeneration(IActorRef actor)
    {
        lock (s_generations)
        {
            s_generations.TryGetValue(actor, out int generation);
            s_generations[actor] = ++generation;
            return generation;
        }
    }

    private sealed class Parent : ReceiveActor
    {
        public Parent(IActorRef probe, Props childProps)
        {
            probe.Tell(Context.ActorOf(childProps, "child"));
            Receive<string>(s => s == "fail", _ => throw new InvalidOperationException("parent boom"));
        }
    }

    private sealed class HookActor : ReceiveActor
    {
        private readonly IActorRef _probe;

        public HookActor(IActorRef probe)
        {
            _probe = probe;
            Receive<string>(s => s == "fail", _ => throw new InvalidOperationException("boom"));
        }

        protected override void PreStart() => _probe.Tell("PreStart");

        protected override void PreRestart(Exception reason, object? message)
        {
            _probe.Tell($"PreRestart:{reason.Message}:{message}");
            base.PreRestart(reason, message);
        }

        protected override void PostRestart(Exception reason)
        {
            _probe.Tell($"PostRestart:{reason.Message}");
            base.PostRestart(reason);
        }

        protected override ValueTask PostStopAsync()
        {
            _probe.Tell("PostStop");
            return ValueTask.CompletedTask;
        }
    }

    private sealed class BrokenActor : ReceiveActor
    {
        public BrokenActor() => throw new InvalidOperationException("cannot start");
    }
}
