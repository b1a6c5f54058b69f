using System.Collections.Immutable;
using Router.Actors.Config;
using Router.Gateway.Simulation;

namespace Router.Gateway.Hosting;

/// <summary>Points the configured backends at the simulated devices of the same hardware kind (a backend the configuration disables stays disabled).</summary>
internal static class SimulationSetup
{
    /// <summary>Each backend of a simulated hardware kind goes to that device.</summary>
    /// <param name="laptopSensors">The backends also read their temperature and power from the simulated laptop's sensors for their device (<see cref="SimulatedLaptop.SensorsFor"/>), as in --simulate; false keeps the configured sensors (a machine read from sysfs).</param>
    public static RouterConfig PointAt(RouterConfig config, IReadOnlyList<SimulatedBackend> simulators, bool laptopSensors = false)
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

            backends.Add(match is null ? backend : backend with
            {
                Endpoint = match.Endpoint,
                Type = "ollama",
                Sensors = laptopSensors ? SimulatedLaptop.SensorsFor(backend.Sensors, match.Profile.Hardware) : backend.Sensors,
            });
        }

        return config with { Backends = backends.MoveToImmutable() };
    }

    /// <summary>The laptop around the simulated devices, each with the backend it serves (a config from <see cref="PointAt"/>).</summary>
    public static SimulatedLaptop Laptop(RouterConfig config, IReadOnlyList<SimulatedBackend> simulators, double timeScale, TimeProvider time)
    {
        var devices = new List<(string, SimulatedBackend)>();
        foreach (var backend in config.Backends)
        {
            foreach (var simulator in simulators)
            {
                if (backend.Endpoint == simulator.Endpoint)
                {
                    devices.Add((backend.Id, simulator));
                    break;
                }
            }
        }

        return new SimulatedLaptop(devices, timeScale, time);
    }
}
