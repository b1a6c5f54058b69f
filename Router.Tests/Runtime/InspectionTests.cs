using System.Collections.Immutable;
using Router.Actors.Routing;
using Router.Actors.Runtime;
using Router.Tests.TestKit;

namespace Router.Tests.Runtime;

public sealed class InspectionTests() : ActorTestBase(manualClock: true)
{
    [Fact]
    public void Inspect_Tree_ShowsPathsTypesMailboxesAndCounts()
    {
        var probe = CreateTestProbe();
        IActorRef backends = Sys.ActorOf(Props.Create(() => new Supervisor(probe.Ref)), "backends");
        IActorRef npu = probe.ExpectMsg<IActorRef>();
        for (int i = 0; i < 3; i++)
        {
            probe.Send(npu, "ping");
            probe.ExpectMsg<string>();
        }

        ActorTreeSnapshot snapshot = Sys.Inspect();

        Assert.Equal("/", snapshot.Root.Path);
        Assert.Equal(["/user", "/system"], snapshot.Root.Children.Select(c => c.Path));
        ActorNodeSnapshot backendsNode = SupervisionTests.FindNode(snapshot.Root, "/user/backends")!;
        Assert.Equal(nameof(Supervisor), backendsNode.ActorType);
        Assert.Equal("fifo", backendsNode.MailboxKind);
        Assert.Equal(["system", "user"], backendsNode.Lanes.Select(l => l.Lane));
        ActorNodeSnapshot npuNode = Assert.Single(backendsNode.Children);
        Assert.Equal("/user/backends/ollama-npu", npuNode.Path);
        Assert.Equal(nameof(Backend), npuNode.ActorType);
        Assert.Equal("priority", npuNode.MailboxKind);
        Assert.Equal(["system", "critical", "high", "normal", "best-effort"], npuNode.Lanes.Select(l => l.Lane));
        Assert.Equal(3, npuNode.MessagesProcessed);
        Assert.Equal(0, npuNode.Restarts);
        Assert.Null(npuNode.LastFailure);
        Assert.Equal(Clock.GetUtcNow(), snapshot.TakenAt);
        _ = backends;
    }

    [Fact]
    public void Inspect_BlockedActor_ShowsDepthPerLane()
    {
        var probe = CreateTestProbe();
        var gate = new ManualResetEventSlim();
        IActorRef backends = Sys.ActorOf(Props.Create(() => new Supervisor(probe.Ref, gate)), "backends");
        IActorRef npu = probe.ExpectMsg<IActorRef>();

        npu.Tell("block");
        AwaitCondition(() => Node("/user/backends/ollama-npu").MessagesProcessed == 1);
        npu.Tell(new Job(Priority.Critical));
        npu.Tell(new Job(Priority.BestEffort));
        npu.Tell(new Job(Priority.BestEffort));
        npu.Tell("normal");

        ImmutableArray<LaneDepth> lanes = Node("/user/backends/ollama-npu").Lanes;
        gate.Set();

        LaneDepth[] expected = [new("system", 0), new("critical", 1), new("high", 0), new("normal", 1), new("best-effort", 2)];
        Assert.Equal(expected, lanes.ToArray());
        _ = backends;
    }

    [Fact]
    public void Inspect_AfterFailure_ShowsRestartsAndLastFailure()
    {
        var probe = CreateTestProbe();
        Sys.ActorOf(Props.Create(() => new Supervisor(probe.Ref)), "backends");
        IActorRef npu = probe.ExpectMsg<IActorRef>();
        Clock.Advance(TimeSpan.FromMinutes(3));

        npu.Tell(new Job(Priority.High, Fail: true));

        AwaitCondition(() => Node("/user/backends/ollama-npu").Restarts == 1);
        ActorNodeSnapshot node = Node("/user/backends/ollama-npu");
        Assert.Equal("TimeoutException: backend did not answer (while processing Job)", node.LastFailure);
        Assert.Equal(Clock.GetUtcNow(), node.LastFailureAt);
    }

    private ActorNodeSnapshot Node(string path) => SupervisionTests.FindNode(Sys.Inspect().Root, path)!;

    internal sealed record Job(Priority Priority, bool Fail = false) : IPriorityMessage;

    private sealed class Supervisor : ReceiveActor
    {
        public Supervisor(IActorRef probe, ManualResetEventSlim? gate = null) =>
            probe.Tell(Context.ActorOf(Props.Create(() => new Backend(gate)).WithMailbox(new PriorityMailboxOptions()), "ollama-npu"));
    }

    private sealed class Backend : ReceiveActor
    {
        public Backend(ManualResetEventSlim? gate)
        {
            Receive<string>(s => s == "block", _ => gate!.Wait(TimeSpan.FromSeconds(10)));
            Receive<string>(s => Sender.Tell(s, Self));
            Receive<Job>(job =>
            {
                if (job.Fail)
                {
                    throw new TimeoutException("backend did not answer");
                }
            });
        }
    }
}
