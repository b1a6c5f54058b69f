using Router.Actors.Routing;
using Router.Actors.Runtime;
using Router.Tests.TestKit;

namespace Router.Tests.Runtime;

public sealed class EventStreamTests : ActorTestBase
{
    [Fact]
    public void Publish_SubscribedType_Delivered()
    {
        var probe = CreateTestProbe();
        Sys.EventStream.Subscribe<ModeChanged>(probe.Ref);

        Sys.EventStream.Publish(new ModeChanged("quiet"));
        Sys.EventStream.Publish("not a mode change");

        Assert.Equal("quiet", probe.ExpectMsg<ModeChanged>().Mode);
        probe.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void Publish_SubscribedToBaseTypeAndInterface_DeliveredOncePerSubscriber()
    {
        var byBase = CreateTestProbe();
        var byInterface = CreateTestProbe();
        var byBoth = CreateTestProbe();
        Sys.EventStream.Subscribe<SystemEvent>(byBase.Ref);
        Sys.EventStream.Subscribe<IMachineEvent>(byInterface.Ref);
        Sys.EventStream.Subscribe<SystemEvent>(byBoth.Ref);
        Sys.EventStream.Subscribe(byBoth.Ref, typeof(IMachineEvent));

        Sys.EventStream.Publish(new ThermalChanged(71.5));

        Assert.Equal(71.5, byBase.ExpectMsg<ThermalChanged>().Celsius);
        Assert.Equal(71.5, byInterface.ExpectMsg<ThermalChanged>().Celsius);
        byBoth.ExpectMsg<ThermalChanged>();
        byBoth.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void Subscribe_Twice_ReturnsFalseTheSecondTime()
    {
        var probe = CreateTestProbe();

        Assert.True(Sys.EventStream.Subscribe<ModeChanged>(probe.Ref));
        Assert.False(Sys.EventStream.Subscribe<ModeChanged>(probe.Ref));
    }

    [Fact]
    public void Unsubscribe_OneChannel_StopsThatChannelOnly()
    {
        var probe = CreateTestProbe();
        Sys.EventStream.Subscribe<ModeChanged>(probe.Ref);
        Sys.EventStream.Subscribe<ThermalChanged>(probe.Ref);

        Assert.True(Sys.EventStream.Unsubscribe(probe.Ref, typeof(ModeChanged)));
        Sys.EventStream.Publish(new ModeChanged("quiet"));
        Sys.EventStream.Publish(new ThermalChanged(60));

        probe.ExpectMsg<ThermalChanged>();
        probe.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void Subscriber_Stops_IsRemoved()
    {
        var watcher = CreateTestProbe();
        IActorRef subscriber = Sys.ActorOf(Props.Create<Idle>(), "subscriber");
        Sys.EventStream.Subscribe<ModeChanged>(subscriber);
        watcher.Watch(subscriber);

        subscriber.Tell(PoisonPill.Instance);
        watcher.ExpectMsg<Terminated>();

        Assert.False(Sys.EventStream.Unsubscribe(subscriber));
        long before = Sys.DeadLetterCount;
        Sys.EventStream.Publish(new ModeChanged("quiet"));
        Assert.Equal(before, Sys.DeadLetterCount);
    }

    [Fact]
    public void Unhandled_Message_PublishedAsUnhandledMessage()
    {
        var probe = CreateTestProbe();
        Sys.EventStream.Subscribe<UnhandledMessage>(probe.Ref);
        IActorRef picky = Sys.ActorOf(Props.Create<Picky>(), "picky");

        picky.Tell(42, probe.Ref);

        UnhandledMessage unhandled = probe.ExpectMsg<UnhandledMessage>();
        Assert.Equal(42, unhandled.Message);
        Assert.Equal(probe.Ref, unhandled.Sender);
        Assert.Equal(picky, unhandled.Recipient);
    }

    [Fact]
    public void ActorFailed_HandlerThrows_PublishedWithCauseAndMessage()
    {
        var probe = CreateTestProbe();
        Sys.EventStream.Subscribe<ActorFailed>(probe.Ref);
        IActorRef thrower = Sys.ActorOf(Props.Create<Thrower>(), "thrower");

        thrower.Tell("explode");

        ActorFailed failed = probe.ExpectMsg<ActorFailed>();
        Assert.Equal(thrower, failed.Actor);
        Assert.Equal("explode", failed.Message);
        Assert.IsType<FormatException>(failed.Cause);
    }

    internal interface IMachineEvent;

    internal abstract record SystemEvent;

    internal sealed record ModeChanged(string Mode) : SystemEvent;

    internal sealed record ThermalChanged(double Celsius) : SystemEvent, IMachineEvent;

    private sealed class Idle : ReceiveActor
    {
        public Idle() => ReceiveAny(_ => { });
    }

    private sealed class Thrower : ReceiveActor
    {
        public Thrower() => Receive<string>(s => throw new FormatException(s));
    }

    private sealed class Picky : ReceiveActor
    {
        public Picky() => Receive<string>(_ => { });
    }
}
