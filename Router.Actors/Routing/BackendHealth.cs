namespace Router.Actors.Routing;

/// <summary>Health of one backend as its BackendActor sees it.</summary>
public enum BackendHealth
{
    Unknown,
    Healthy,
    Degraded,
    Unhealthy,
    Ejected,
}
