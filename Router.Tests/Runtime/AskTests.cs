using Router.Actors.Routing;
using Router.Actors.Runtime;
using Router.Tests.TestKit;

namespace Router.Tests.Runtime;

public sealed class AskTests() : ActorTestBase(manualClock: true)
{
    [Fact]
    public async Task Ask_ActorReplies_ReturnsTheReply()
    {
        IActorRef doubler = Sys.ActorOf(Props.Create<Doubler>(), "doubler");

        int result = await doubler.Ask<int>(21).WithTimeout(WaitTimeout);

        Assert.Equal(42, result);
        Assert.Equal(0, Sys.PendingAsks);
        Assert.Equal(0, Clock.ActiveTimers);
    }

    [Fact]
    public async Task Ask_NoReply_ThrowsAskTimeoutAfterTheTimeoutOnTheSystemClock()
    {
        var probe = CreateTestProbe();

        Task<int> asking = probe.Ref.Ask<int>("question", TimeSpan.FromSeconds(3));
        probe.ExpectMsg<string>();
        Clock.Advance(TimeSpan.FromSeconds(2.999));
        Assert.False(asking.IsCompleted);
        Clock.Advance(TimeSpan.FromMilliseconds(1));

        var ex = await Assert.ThrowsAsync<AskTimeoutException>(() => asking.WithTimeout(WaitTimeout));
        Assert.IsAssignableFrom<TimeoutException>(ex);
        Assert.Equal(0, Sys.PendingAsks);
        Assert.Equal(0, Clock.ActiveTimers);
    }

    [Fact]
    public async Task Ask_DefaultTimeout_ComesFromTheSystemOptions()
    {
        var probe = CreateTestProbe();

        Task<int> asking = probe.Ref.Ask<int>("question");
        probe.ExpectMsg<string>();
        Clock.Advance(Sys.Options.DefaultAskTimeout);

        await Assert.ThrowsAsync<AskTimeoutException>(() => asking.WithTimeout(WaitTimeout));
    }

    [Fact]
    public async Task Ask_ReplyIsStatusFailure_ThrowsItsCause()
    {
        IActorRef failing = Sys.ActorOf(Props.Create<FailingReplier>(), "failing");

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => failing.Ask<int>("x").WithTimeout(WaitTimeout));

        Assert.Equal("no model", ex.Message);
        Assert.Equal(0, Sys.PendingAsks);
    }

    [Fact]
    public async Task Ask_ReplyIsStatusSuccess_ReturnsItsValue()
    {
        var probe = CreateTestProbe();

        Task<string> asking = probe.Ref.Ask<string>("x");
        probe.ExpectMsg<string>();
        probe.Reply(new Status.Success("done"));

        Assert.Equal("done", await asking.WithTimeout(WaitTimeout));
    }

    [Fact]
    public async Task Ask_ReplyOfWrongType_ThrowsInvalidCast()
    {
        var probe = CreateTestProbe();

        Task<int> asking = probe.Ref.Ask<int>("x");
        probe.ExpectMsg<string>();
        probe.Reply("not a number");

        await Assert.ThrowsAsync<InvalidCastException>(() => asking.WithTimeout(WaitTimeout));
    }

    [Fact]
    public async Task Ask_Cancelled_ThrowsCanceledAndReleasesTheWaiter()
    {
        var probe = CreateTestProbe();
        using var cts = new CancellationTokenSource();

        Task<int> asking = probe.Ref.Ask<int>("x", TimeSpan.FromMinutes(1), cts.Token);
        probe.ExpectMsg<string>();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => asking.WithTimeout(WaitTimeout));
        Assert.Equal(0, Sys.PendingAsks);
        Assert.Equal(0, Clock.ActiveTimers);
    }

    [Fact]
    public async Task Ask_AlreadyCancelledToken_DoesNotSend()
    {
        var probe = CreateTestProbe();
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        Task<int> asking = probe.Ref.Ask<int>("x", cancellationToken: cts.Token);

        Assert.True(asking.IsCanceled);
        probe.ExpectNoMsg(TimeSpan.FromMilliseconds(50));
    }

    [Fact]
    public async Task Ask_ReplyAfterTimeout_GoesToDeadLettersAndLeavesNoWaiter()
    {
        var probe = CreateTestProbe();

        Task<int> asking = probe.Ref.Ask<int>("x", TimeSpan.FromSeconds(1));
        probe.ExpectMsg<string>();
        Clock.Advance(TimeSpan.FromSeconds(1));
        await Assert.ThrowsAsync<AskTimeoutException>(() => asking.WithTimeout(WaitTimeout));
        long before = Sys.DeadLetterCount;
        probe.Reply(5);

        Assert.Equal(before + 1, Sys.DeadLetterCount);
        Assert.Equal(0, Sys.PendingAsks);
    }

    [Fact]
    public async Task Ask_ManyOutcomes_NoWaiterLeaks()
    {
        IActorRef doubler = Sys.ActorOf(Props.Create<Doubler>(), "doubler");
        var silent = CreateTestProbe();
        using var cts = new CancellationTokenSource();

        var replied = new List<Task<int>>();
        for (int i = 0; i < 100; i++)
        {
            replied.Add(doubler.Ask<int>(i));
        }

        var timedOut = new List<Task<int>>();
        var cancelled = new List<Task<int>>();
        for (int i = 0; i < 50; i++)
        {
            timedOut.Add(silent.Ref.Ask<int>(i, TimeSpan.FromSeconds(1)));
            cancelled.Add(silent.Ref.Ask<int>(i, TimeSpan.FromSeconds(30), cts.Token));
        }

        await Task.WhenAll(replied).WithTimeout(WaitTimeout);
        Clock.Advance(TimeSpan.FromSeconds(1));
        await cts.CancelAsync();
        await Task.WhenAll(timedOut.Concat(cancelled)).ContinueWith(static _ => { }, TaskScheduler.Default).WithTimeout(WaitTimeout);

        Assert.All(timedOut, t => Assert.IsType<AskTimeoutException>(t.Exception!.InnerException));
        Assert.All(cancelled, t => Assert.True(t.IsCanceled));
        Assert.Equal(0, Sys.PendingAsks);
        Assert.Equal(0, Clock.ActiveTimers);
    }

    [Fact]
    public async Task Forward_ThroughAnIntermediary_ReplyReachesTheOriginalAsker()
    {
        IActorRef doubler = Sys.ActorOf(Props.Create<Doubler>(), "doubler");
        IActorRef relay = Sys.ActorOf(Props.Create(() => new Relay(doubler)), "relay");

        int result = await relay.Ask<int>(5).WithTimeout(WaitTimeout);

        Assert.Equal(10, result);
    }

    private sealed class Doubler : ReceiveActor
    {
        public Doubler() => Receive<int>(n => Sender.Tell(n * 2, Self));
    }

    private sealed class FailingReplier : ReceiveActor
    {
        public FailingReplier() => ReceiveAny(_ => Sender.Tell(new Status.Failure(new InvalidOperationException("no model")), Self));
    }

    private sealed class Relay : ReceiveActor
    {
        public Relay(IActorRef target) => ReceiveAny(message => target.Forward(message, Context));
    }
}
