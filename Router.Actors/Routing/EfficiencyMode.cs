namespace Router.Actors.Routing;

/// <summary>The user's efficiency mode. Auto resolves to one of the others from the machine's state.</summary>
public enum EfficiencyMode
{
    Performance,
    Balanced,
    Efficiency,
    Quiet,
    UltraEfficiency,
    Auto,
}
