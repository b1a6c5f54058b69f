using Router.Actors.Routing;
using Router.Actors.Runtime;

namespace Router.Tests.Runtime;

public sealed class ManualTimeProviderTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 22, 3, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Advance_PastSeveralTimers_FiresInDueOrderWithClockAtEachDueTime()
    {
        var clock = new ManualTimeProvider(Start);
        var fired = new List<(string Name, TimeSpan At)>();
        using ITimer late = clock.CreateTimer(_ => fired.Add(("late", clock.GetUtcNow() - Start)), null, TimeSpan.FromSeconds(3), Timeout.InfiniteTimeSpan);
        using ITimer early = clock.CreateTimer(_ => fired.Add(("early", clock.GetUtcNow() - Start)), null, TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);

        clock.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal([("early", TimeSpan.FromSeconds(1)), ("late", TimeSpan.FromSeconds(3))], fired);
        Assert.Equal(Start.AddSeconds(10), clock.GetUtcNow());
    }

    [Fact]
    public void Advance_PeriodicTimer_FiresOncePerPeriodUntilDisposed()
    {
        var clock = new ManualTimeProvider(Start);
        int ticks = 0;
        ITimer timer = clock.CreateTimer(_ => ticks++, null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));

        clock.Advance(TimeSpan.FromSeconds(3.5));
        timer.Dispose();
        clock.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(3, ticks);
        Assert.Equal(0, clock.ActiveTimers);
    }

    [Fact]
    public void Change_Rearm_MovesTheDueTime()
    {
        var clock = new ManualTimeProvider(Start);
        int ticks = 0;
        using ITimer timer = clock.CreateTimer(_ => ticks++, null, TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);

        timer.Change(TimeSpan.FromSeconds(5), Timeout.InfiniteTimeSpan);
        clock.Advance(TimeSpan.FromSeconds(4));
        int before = ticks;
        clock.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal((0, 1), (before, ticks));
    }

    [Fact]
    public void GetTimestamp_Advance_FollowsTheClock()
    {
        var clock = new ManualTimeProvider(Start);
        long before = clock.GetTimestamp();

        clock.Advance(TimeSpan.FromMilliseconds(1500));

        Assert.Equal(TimeSpan.FromMilliseconds(1500), clock.GetElapsedTime(before));
    }

    [Fact]
    public void SetUtcNow_Forward_FiresDueTimers()
    {
        var clock = new ManualTimeProvider(Start);
        bool fired = false;
        using ITimer timer = clock.CreateTimer(_ => fired = true, null, TimeSpan.FromMinutes(1), Timeout.InfiniteTimeSpan);

        clock.SetUtcNow(Start.AddMinutes(2));

        Assert.True(fired);
        Assert.Equal(Start.AddMinutes(2), clock.GetUtcNow());
    }

    [Fact]
    public void CreateTimer_ZeroDueTime_FiresImmediately()
    {
        var clock = new ManualTimeProvider(Start);
        bool fired = false;

        using ITimer timer = clock.CreateTimer(_ => fired = true, null, TimeSpan.Zero, Timeout.InfiniteTimeSpan);

        Assert.True(fired);
    }
}
