using Router.Actors.Routing;
using Router.Actors.Runtime;
using Router.Tests.TestKit;

namespace Router.Tests.Runtime;

public sealed class SchedulerTests() : ActorTestBase(manualClock: true)
{
    [Fact]
    public void ScheduleTellOnce_ClockReachesDelay_DeliversOnce()
    {
        var probe = CreateTestProbe();
        var sender = CreateTestProbe();

        ICancelable scheduled = Sys.Scheduler.ScheduleTellOnce(TimeSpan.FromSeconds(5), probe.Ref, "tick", sender.Ref);
        Clock.Advance(TimeSpan.FromSeconds(4.999));
        probe.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        Clock.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal("tick", probe.ExpectMsg<string>());
        Assert.Equal(sender.Ref, probe.LastSender);
        Clock.Advance(TimeSpan.FromMinutes(1));
        probe.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        Assert.False(scheduled.IsCancellationRequested);
        Assert.Equal(0, Clock.ActiveTimers);
    }

    [Fact]
    public void ScheduleTellRepeatedly_ClockAdvances_DeliversEachInterval()
    {
        var probe = CreateTestProbe();

        ICancelable scheduled = Sys.Scheduler.ScheduleTellRepeatedly(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), probe.Ref, "tick");
        Clock.Advance(TimeSpan.FromSeconds(1));
        probe.ExpectMsg<string>();
        Clock.Advance(TimeSpan.FromSeconds(1.5));
        probe.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        Clock.Advance(TimeSpan.FromSeconds(0.5));
        probe.ExpectMsg<string>();

        // A jump over several intervals fires once per interval.
        Clock.Advance(TimeSpan.FromSeconds(6));
        Assert.Equal(3, probe.ReceiveN<string>(3).Count);
        probe.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        scheduled.Cancel();
    }

    [Fact]
    public void Cancel_BeforeDue_NothingDelivered()
    {
        var probe = CreateTestProbe();

        ICancelable once = Sys.Scheduler.ScheduleTellOnce(TimeSpan.FromSeconds(1), probe.Ref, "once");
        ICancelable repeated = Sys.Scheduler.ScheduleTellRepeatedly(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), probe.Ref, "repeated");
        once.Cancel();
        repeated.Cancel();
        Clock.Advance(TimeSpan.FromSeconds(10));

        probe.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        Assert.True(once.IsCancellationRequested);
        Assert.True(repeated.IsCancellationRequested);
        Assert.Equal(0, Clock.ActiveTimers);
    }

    [Fact]
    public void Cancel_RepeatingAfterSomeTicks_StopsFurtherTicks()
    {
        var probe = CreateTestProbe();

        ICancelable scheduled = Sys.Scheduler.ScheduleTellRepeatedly(TimeSpan.Zero, TimeSpan.FromSeconds(1), probe.Ref, "tick");
        probe.ExpectMsg<string>();
        Clock.Advance(TimeSpan.FromSeconds(1));
        probe.ExpectMsg<string>();
        scheduled.Cancel();
        Clock.Advance(TimeSpan.FromSeconds(5));

        probe.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task TerminateAsync_PendingSchedules_AreCancelled()
    {
        var probe = CreateTestProbe();
        ICancelable repeated = Sys.Scheduler.ScheduleTellRepeatedly(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), probe.Ref, "tick");
        ICancelable once = Sys.Scheduler.ScheduleTellOnce(TimeSpan.FromMinutes(1), probe.Ref, "once");

        await Sys.TerminateAsync().AsTask().WithTimeout(WaitTimeout);

        Assert.True(repeated.IsCancellationRequested);
        Assert.True(once.IsCancellationRequested);
        Assert.Equal(0, Clock.ActiveTimers);
        Assert.True(Sys.Scheduler.ScheduleTellOnce(TimeSpan.FromSeconds(1), probe.Ref, "late").IsCancellationRequested);
    }

    [Fact]
    public void Context_Scheduler_IsTheSystemScheduler()
    {
        var probe = CreateTestProbe();
        Sys.ActorOf(Props.Create(() => new SelfTicker(probe.Ref)), "ticker");

        probe.ExpectMsg<string>(predicate: s => s == "armed");
        Clock.Advance(TimeSpan.FromSeconds(30));

        Assert.Equal("ticked", probe.ExpectMsg<string>());
    }

    private sealed class SelfTicker : ReceiveActor
    {
        public SelfTicker(IActorRef probe)
        {
            Receive<string>(s => s == "tick", _ => probe.Tell("ticked"));
            Context.Scheduler.ScheduleTellOnce(TimeSpan.FromSeconds(30), Self, "tick");
            probe.Tell("armed");
        }
    }
}
