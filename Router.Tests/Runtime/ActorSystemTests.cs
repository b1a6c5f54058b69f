using Router.Actors.Routing;
using Router.Actors.Runtime;
using Router.Tests.TestKit;

namespace Router.Tests.Runtime;

public sealed class ActorSystemTests : ActorTestBase
{
    [Fact]
    public void ActorOf_NestedChildren_PathsFollowTheTree()
    {
        var probe = CreateTestProbe();
        IActorRef backends = Sys.ActorOf(Props.Create(() => new ParentActor(probe.Ref)), "backends");

        backends.Tell(new CreateChild("ollama-npu"));

        var created = probe.ExpectMsg<IActorRef>();
        Assert.Equal("/user/backends", backends.Path.ToString());
        Assert.Equal("/user/backends/ollama-npu", created.Path.ToString());
        Assert.Equal("ollama-npu", created.Path.Name);
        Assert.Equal(backends.Path, created.Path.Parent);
    }

    [Fact]
    public void ActorOf_NameTakenBySibling_ThrowsInvalidActorName()
    {
        Sys.ActorOf(Props.Create<EchoActor>(), "echo");

        Assert.Throws<InvalidActorNameException>(() => Sys.ActorOf(Props.Create<EchoActor>(), "echo"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a/b")]
    [InlineData("two words")]
    public void ActorOf_InvalidName_ThrowsInvalidActorName(string name)
    {
        Assert.Throws<InvalidActorNameException>(() => Sys.ActorOf(Props.Create<EchoActor>(), name));
    }

    [Fact]
    public void ActorOf_SameNameUnderDifferentParents_IsAllowed()
    {
        var probe = CreateTestProbe();
        IActorRef a = Sys.ActorOf(Props.Create(() => new ParentActor(probe.Ref)), "a");
        IActorRef b = Sys.ActorOf(Props.Create(() => new ParentActor(probe.Ref)), "b");

        a.Tell(new CreateChild("worker"));
        b.Tell(new CreateChild("worker"));

        var paths = new[] { probe.ExpectMsg<IActorRef>().Path.ToString(), probe.ExpectMsg<IActorRef>().Path.ToString() };
        Assert.Contains("/user/a/worker", paths);
        Assert.Contains("/user/b/worker", paths);
    }

    [Fact]
    public async Task ActorOf_NameOfStoppedChild_CanBeReusedAfterTerminated()
    {
        var probe = CreateTestProbe();
        IActorRef first = Sys.ActorOf(Props.Create<EchoActor>(), "reused");
        probe.Watch(first);

        first.Tell(PoisonPill.Instance);
        probe.ExpectMsg<Terminated>();

        // The guardian frees the name when it learns of the stop, right after watchers are told.
        IActorRef? second = null;
        await AwaitAssertAsync(() =>
        {
            try
            {
                second = Sys.ActorOf(Props.Create<EchoActor>(), "reused");
            }
            catch (InvalidActorNameException ex)
            {
                throw new Xunit.Sdk.XunitException(ex.Message);
            }
        });
        probe.Send(second!, "hello");
        Assert.Equal("hello", probe.ExpectMsg<string>());
    }

    [Fact]
    public async Task TerminateAsync_Tree_StopsChildrenBeforeParentsAndAwaitsPostStop()
    {
        var log = new StopLog();
        IActorRef root = Sys.ActorOf(Props.Create(() => new TreeActor(log, depth: 2)), "root");
        var probe = CreateTestProbe();
        probe.Send(root, "ping");
        probe.ExpectMsg<string>();

        await Sys.TerminateAsync().AsTask().WithTimeout(WaitTimeout);

        string[] order = log.Snapshot();
        Assert.Equal(4, order.Length);
        Assert.Equal("/user/root", order[^1]);
        Assert.True(Array.IndexOf(order, "/user/root/c0/c0") < Array.IndexOf(order, "/user/root/c0"));
        Assert.True(Array.IndexOf(order, "/user/root/c1") < Array.IndexOf(order, "/user/root"));
        Assert.True(Sys.WhenTerminated.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task TerminateAsync_CalledTwice_CompletesBothAndIsIdempotent()
    {
        Sys.ActorOf(Props.Create<EchoActor>(), "echo");

        ValueTask first = Sys.TerminateAsync();
        ValueTask second = Sys.TerminateAsync();

        await first.AsTask().WithTimeout(WaitTimeout);
        await second.AsTask().WithTimeout(WaitTimeout);
        Assert.True(Sys.WhenTerminated.IsCompleted);
        Assert.Throws<InvalidOperationException>(() => Sys.ActorOf(Props.Create<EchoActor>(), "late"));
    }

    [Fact]
    public async Task TerminateAsync_AsyncPostStop_IsAwaitedBeforeParentStops()
    {
        var log = new StopLog();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        IActorRef parent = Sys.ActorOf(Props.Create(() => new SlowStopParent(log, release.Task)), "parent");
        var probe = CreateTestProbe();
        probe.Send(parent, "ping");
        probe.ExpectMsg<string>();

        ValueTask terminating = Sys.TerminateAsync();
        AwaitCondition(() => log.Snapshot().Contains("child:stopping"));
        Assert.DoesNotContain("/user/parent", log.Snapshot());
        Assert.False(terminating.IsCompleted);

        release.SetResult();
        await terminating.AsTask().WithTimeout(WaitTimeout);
        Assert.Equal(["child:stopping", "child:stopped", "/user/parent"], log.Snapshot());
    }

    [Fact]
    public void Stop_Subtree_ChildrenStopBeforeTheirParentAndWatchersAreTold()
    {
        var log = new StopLog();
        var probe = CreateTestProbe();
        IActorRef root = Sys.ActorOf(Props.Create(() => new TreeActor(log, depth: 2)), "root");
        probe.Watch(root);

        root.Tell(PoisonPill.Instance);

        Assert.Equal(root, probe.ExpectMsg<Terminated>().Actor);
        string[] order = log.Snapshot();
        Assert.Equal(4, order.Length);
        Assert.Equal("/user/root", order[^1]);
        Assert.True(Array.IndexOf(order, "/user/root/c0/c0") < Array.IndexOf(order, "/user/root/c0"));
        // The guardian forgets the child when it handles the death notice, which may come after the
        // watcher has heard (as in any actor system): the tree is empty soon, not at once.
        AwaitCondition(() => Sys.Inspect().Root.Children[0].Children.IsEmpty);
    }

    [Fact]
    public void Stop_SelfWhileBacklogged_LaterMessagesGoToDeadLetters()
    {
        var probe = CreateTestProbe();
        var listener = CreateTestProbe();
        Sys.EventStream.Subscribe<DeadLetter>(listener.Ref);
        var gate = new ManualResetEventSlim();
        IActorRef actor = Sys.ActorOf(Props.Create(() => new SelfStopper(probe.Ref, gate)), "stopper");

        actor.Tell("block");
        actor.Tell("stop");
        actor.Tell("after");
        gate.Set();

        Assert.Equal("stop", probe.ExpectMsg<string>());
        Assert.Equal("after", listener.ExpectMsg<DeadLetter>().Message);
        probe.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void Tell_MessagesFromOneSender_ArriveInOrder()
    {
        var probe = CreateTestProbe();
        IActorRef echo = Sys.ActorOf(Props.Create<EchoActor>(), "echo");

        for (int i = 0; i < 1000; i++)
        {
            probe.Send(echo, i);
        }

        for (int i = 0; i < 1000; i++)
        {
            Assert.Equal(i, probe.ExpectMsg<int>());
        }
    }

    [Fact]
    public void Sender_NoSenderGiven_IsDeadLetters()
    {
        var probe = CreateTestProbe();
        IActorRef reporter = Sys.ActorOf(Props.Create(() => new SenderReporter(probe.Ref)), "reporter");

        reporter.Tell("who");

        Assert.Same(Sys.DeadLetters, probe.ExpectMsg<IActorRef>());
    }

    internal sealed record CreateChild(string Name);

    internal sealed class StopLog
    {
        private readonly List<string> _entries = [];

        public void Add(string entry)
        {
            lock (_entries)
            {
                _entries.Add(entry);
            }
        }

        public string[] Snapshot()
        {
            lock (_entries)
            {
                return [.. _entries];
            }
        }
    }

    private sealed class EchoActor : ReceiveActor
    {
        public EchoActor() => ReceiveAny(message => Sender.Tell(message, Self));
    }

    private sealed class SelfStopper : ReceiveActor
    {
        public SelfStopper(IActorRef probe, ManualResetEventSlim gate)
        {
            Receive<string>(s => s == "block", _ => gate.Wait(TimeSpan.FromSeconds(10)));
            Receive<string>(s => s == "stop", s =>
            {
                probe.Tell(s);
                Context.Stop(Self);
            });
            Receive<string>(s => probe.Tell(s));
        }
    }

    private sealed class SenderReporter : ReceiveActor
    {
        public SenderReporter(IActorRef probe) => ReceiveAny(_ => probe.Tell(Sender));
    }

    private sealed class ParentActor : ReceiveActor
    {
        public ParentActor(IActorRef probe) =>
            Receive<CreateChild>(create => probe.Tell(Context.ActorOf(Props.Create<EchoActor>(), create.Name)));
    }

    private sealed class TreeActor : ReceiveActor
    {
        private readonly StopLog _log;

        public TreeActor(StopLog log, int depth)
        {
            _log = log;
            if (depth == 2)
            {
                Context.ActorOf(Props.Create(() => new TreeActor(log, 1)), "c0");
                Context.ActorOf(Props.Create(() => new TreeActor(log, 0)), "c1");
            }
            else if (depth == 1)
            {
                Context.ActorOf(Props.Create(() => new TreeActor(log, 0)), "c0");
            }

            ReceiveAny(message => Sender.Tell(message, Self));
        }

        protected override ValueTask PostStopAsync()
        {
            _log.Add(Self.Path.ToString());
            return ValueTask.CompletedTask;
        }
    }

    private sealed class SlowStopParent : ReceiveActor
    {
        private readonly StopLog _log;

        public SlowStopParent(StopLog log, Task release)
        {
            _log = log;
            Context.ActorOf(Props.Create(() => new SlowStopChild(log, release)), "child");
            ReceiveAny(message => Sender.Tell(message, Self));
        }

        protected override ValueTask PostStopAsync()
        {
            _log.Add(Self.Path.ToString());
            return ValueTask.CompletedTask;
        }
    }

    private sealed class SlowStopChild(StopLog log, Task release) : ReceiveActor
    {
        protected override async ValueTask PostStopAsync()
        {
            log.Add("child:stopping");
            await release;
            log.Add("child:stopped");
        }
    }
}
