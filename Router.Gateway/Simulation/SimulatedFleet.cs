using System.Collections.Immutable;

namespace Router.Gateway.Simulation;

/// <summary>Starts several simulated backends at once: by default the four devices of the default config.</summary>
public static class SimulatedFleet
{
    /// <summary>
    /// Starts <c>npu</c>, <c>igpu</c>, <c>nvidia</c> and <c>cpu</c> (in that order) at <paramref name="timeScale"/>.
    /// <paramref name="ports"/>, when given, fixes each device's port (same order); otherwise each gets a free one.
    /// </summary>
    public static Task<IReadOnlyList<SimulatedBackend>> StartDefaultAsync(
        double timeScale, SimulatorOptions? options = null, IReadOnlyList<int>? ports = null, CancellationToken cancellationToken = default) =>
        StartAsync(DeviceProfile.Defaults, (options ?? new SimulatorOptions()) with { TimeScale = timeScale }, ports, cancellationToken);

    /// <summary>Starts one backend per profile; if one fails to start, the others are stopped.</summary>
    public static async Task<IReadOnlyList<SimulatedBackend>> StartAsync(
        ImmutableArray<DeviceProfile> profiles, SimulatorOptions options, IReadOnlyList<int>? ports = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (ports is not null && ports.Count != profiles.Length)
        {
            throw new ArgumentException($"Expected {profiles.Length} ports, got {ports.Count}.", nameof(ports));
        }

        var started = new List<SimulatedBackend>(profiles.Length);
        try
        {
            for (int i = 0; i < profiles.Length; i++)
            {
                SimulatorOptions own = ports is null ? options : options with { Port = ports[i] };
                started.Add(await SimulatedBackend.StartAsync(profiles[i], own, cancellationToken).ConfigureAwait(false));
            }

            return started;
        }
        catch
        {
            foreach (SimulatedBackend backend in started)
            {
                await backend.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }
    }
}
