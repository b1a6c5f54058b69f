using System.CommandLine;
using System.Runtime.InteropServices;
using Router.Gateway.Simulation;

namespace Router.Gateway.Cli;

/// <summary>
/// <c>ollama-proxy simulate-backend</c> (hidden): one simulated Ollama device as a process of its own, so
/// benchmarks can send the same load straight to it, through the router and through another proxy.
/// </summary>
internal static class SimulatorCommand
{
    public static Command Build()
    {
        var hardware = new Option<string>("--hardware")
        {
            Description = "npu | igpu | nvidia | cpu: the device profile to simulate.",
            DefaultValueFactory = _ => "nvidia",
        };
        var port = new Option<int>("--port") { Description = "Loopback port; 0 picks a free one." };
        var timeScale = new Option<double>("--time-scale") { Description = "1 is real time, 0 no think time at all.", DefaultValueFactory = _ => 1.0 };
        var command = new Command("simulate-backend", "Run one simulated Ollama device on 127.0.0.1 (benchmarks).")
        {
            hardware, port, timeScale,
        };
        command.Hidden = true;
        command.SetAction((r, ct) => RunAsync(r.GetValue(hardware)!, r.GetValue(port), r.GetValue(timeScale), ct));
        return command;
    }

    private static async Task<int> RunAsync(string hardware, int port, double timeScale, CancellationToken cancellationToken)
    {
        DeviceProfile? profile = null;
        foreach (DeviceProfile candidate in DeviceProfile.Defaults)
        {
            if (string.Equals(candidate.Hardware, hardware, StringComparison.OrdinalIgnoreCase))
            {
                profile = candidate;
            }
        }

        if (profile is null || timeScale < 0 || double.IsNaN(timeScale))
        {
            await Console.Error.WriteLineAsync("ollama-proxy simulate-backend: --hardware is npu, igpu, nvidia or cpu and --time-scale is 0 or more").ConfigureAwait(false);
            return ExitCodes.InvalidConfig;
        }

        SimulatedBackend backend;
        try
        {
            backend = await SimulatedBackend.StartAsync(profile, new SimulatorOptions { Port = port, TimeScale = timeScale }, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            await Console.Error.WriteLineAsync($"ollama-proxy simulate-backend: cannot listen: {ex.Message}").ConfigureAwait(false);
            return ExitCodes.Failed;
        }

        // The program runs its commands without System.CommandLine's signal handling (the daemon's host
        // handles SIGTERM itself), so this command listens for the signals on its own: without it a
        // SIGTERM (a script's cleanup, systemctl) left the process running.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        await using (backend.ConfigureAwait(false))
        {
            Console.WriteLine($"simulated backend {profile.Name} listening: {backend.Endpoint}");
            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C or SIGTERM: stop listening and exit.
            }
        }

        return ExitCodes.Ok;

        void Stop(PosixSignalContext signal)
        {
            signal.Cancel = true;
            stop.Cancel();
        }
    }
}
