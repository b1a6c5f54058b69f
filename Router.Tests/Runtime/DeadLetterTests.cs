using Router.Actors.Routing;
using Router.Actors.Runtime;
using Router.Tests.TestKit;

namespace Router.Tests.Runtime;

public sealed class DeadLetterTests : ActorTestBase
{
    [Fact]
    public void Tell_ToStoppedActor_CountedAndPublished()
    {
        var probe = CreateTestProbe();
        var listener = CreateTestProbe();
        Sys.EventStream.Subscribe<DeadLetter>(listener.Ref);
        IActorRef target = Sys.ActorOf(Props.Create<Idle>(), "target");
        probe.Watch(target);
        target.Tell(PoisonPill.Instance);
        probe.ExpectMsg<Terminated>();
        long before = Sys.DeadLetterCount;

        target.Tell("too late", probe.Ref);

        DeadLetter letter = listener.ExpectMsg<DeadLetter>();
        Assert.Equal("too late", letter.Message);
        Assert.Equal(probe.Ref, letter.Sender);
        Assert.Equal(target, letter.Recipient);
        Assert.Equal(before + 1, Sys.DeadLetterCount);
    }

    [Fact]
    public void Tell_QueuedBehindPoisonPill_GoesToDeadLetters()
    {
        var listener = CreateTestProbe();
        Sys.EventStream.Subscribe<DeadLetter>(listener.Ref);
        var gate = new ManualResetEventSlim();
        IActorRef target = Sys.ActorOf(Props.Create(() => new Blocking(gate)), "target");

        target.Tell("block");
        target.Tell(PoisonPill.Instance);
        target.Tell("after-1");
        target.Tell("after-2");
        gate.Set();

        Assert.Equal("after-1", listener.ExpectMsg<DeadLetter>().Message);
        Assert.Equal("after-2", listener.ExpectMsg<DeadLetter>().Message);
    }

    [Fact]
    public void DeadLetters_TellDirectly_CountedAndPublished()
    {
        var listener = CreateTestProbe();
        Sys.EventStream.Subscribe<DeadLetter>(listener.Ref);

        Sys.DeadLetters.Tell("lost");

        Assert.Equal("lost", listener.ExpectMsg<DeadLetter>().Message);
        Assert.Equal(1, Sys.DeadLetterCount);
        Assert.Equal(1, Sys.Inspect().DeadLetters);
    }

    private sealed class Idle : ReceiveActor
    {
        public Idle() => ReceiveAny(_ => { });
    }

    private sealed class Blocking : ReceiveActor
    {
        public Blocking(ManualResetEventSlim gate) => Receive<string>(_ => gate.Wait(TimeSpan.FromSeconds(10)));
    }
}
