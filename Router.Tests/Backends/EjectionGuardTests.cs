using Router.Actors.Backends;
using Router.Actors.Routing;

namespace Router.Tests.Backends;

public sealed class EjectionGuardTests
{
    [Theory]
    // backends, threshold, ejected already, unhealthy already, allowed
    [InlineData(4, 0.5, 0, 0, true)]
    [InlineData(4, 0.5, 1, 0, true)]
    [InlineData(4, 0.5, 2, 0, false)]    // a third would pass half
    [InlineData(4, 1.0, 2, 1, false)]    // the last one that can serve stays
    [InlineData(4, 1.0, 2, 0, true)]
    [InlineData(2, 0.5, 0, 1, false)]    // the other one is down: this is the last
    [InlineData(1, 1.0, 0, 0, false)]    // a lone backend is never ejected
    [InlineData(10, 0.1, 0, 0, true)]
    [InlineData(10, 0.1, 1, 0, false)]
    public void TryEject_ShareAndLastUsable_Decide(int backends, double threshold, int ejected, int unhealthy, bool allowed)
    {
        var guard = new EjectionGuard(backends, threshold);
        for (var i = 0; i < ejected; i++)
        {
            Assert.True(guard.TryEject("ejected-" + i, out _));
            guard.Report("ejected-" + i, BackendHealth.Ejected);
        }

        for (var i = 0; i < unhealthy; i++)
        {
            guard.Report("down-" + i, BackendHealth.Unhealthy);
        }

        Assert.Equal(allowed, guard.TryEject("candidate", out var refusal));
        Assert.Equal(allowed, refusal is null);
    }

    [Fact]
    public void Report_EjectedBackendBackInService_MakesRoomForAnother()
    {
        var guard = new EjectionGuard(4, 0.25);
        Assert.True(guard.TryEject("a", out _));
        Assert.False(guard.TryEject("b", out var refusal));
        Assert.Contains("1 of 4 backends are ejected already", refusal, StringComparison.Ordinal);

        guard.Report("a", BackendHealth.Degraded);

        Assert.True(guard.TryEject("b", out _));
    }
}
