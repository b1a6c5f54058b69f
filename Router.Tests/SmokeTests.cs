using Router.Actors.Routing;

namespace Router.Tests;

public sealed class SmokeTests
{
    [Fact]
    public void RoutingHints_Default_IsNormalPriority()
    {
        Assert.Equal(Router.Actors.Routing.Priority.Normal, RoutingHints.Default.Priority);
    }
}
