using System.Collections.Immutable;
using Router.Actors.Config;
using Router.Gateway.Simulation;

namespace Router.Gateway.Hosting;

/// <summary>Points the configured backends at the simulated devices of the same hardware kind (a backend the configuration disables stays disabled).</summary>
internal static class SimulationSetup
{
    public static RouterConfig PointAt(RouterConfig config, IReadOnlyList<SimulatedBackend> simulators)
    {
        var backends = ImmutableArray.CreateBuilder<BackendConfig>(config.Backends.Length);
        foreach (var backend in config.Backends)
        {
            SimulatedBackend? match = null;
            foreach (var simulator in simulators)
            {
                if (string.Equals(simulator.Profile.Hardware, backend.Hardware, StringComparison.OrdinalIgnoreCase))
                {
                    match = simulator;
                    break;
                }
            }

            backends.Add(match is null ? backend : backend with { Endpoint = match.Endpoint, Type = "ollama" });
        }

        return config with { Backends = backends.MoveToImmutable() };
    }
}
