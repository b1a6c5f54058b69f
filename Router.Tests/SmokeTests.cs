using Router.Actors.Routing;

namespace Router.Tests;

public sealed class SmokeTests
{
    [Fact]
    public void RoutingHints_Default_IsNormalPriority()
    {
        Assert.Equal(Router.Actors.Runtime.Priority.Normal, RoutingHints.Default.Priority);
    }
}
