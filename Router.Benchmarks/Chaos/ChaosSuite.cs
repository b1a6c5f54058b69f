using System.Diagnostics;
using System.Globalization;

namespace Router.Benchmarks.Chaos;

/// <summary>
/// scripts/chaos: the reliability suite against the real daemon (<c>ollama-proxy --simulate</c>,
/// started here on ports the system picks and stopped at the end). Four checks, one figure each:
/// bad input on every surface, backend faults under the mixed load, clients that never read, and
/// SIGTERM under load. Exit code 0 when every check passed.
/// </summary>
internal static class ChaosSuite
{
    private static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(60);

    /// <summary>
    /// What the suite changes from the defaults, as users would set it: no D-Bus or desktop (the
    /// suite's daemon must not take the user's bus name), a 2 s first-byte timeout (the default
    /// 120 s would make a hung device hold its request for two minutes), ejections of 1 to 4 s
    /// instead of 10 s to 5 min (so the faulted device is back for its next fault), a 3 s drain.
    /// </summary>
    private static Dictionary<string, string> Settings(int? maxConcurrent)
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["OLLAMA_PROXY_DBUS_ENABLED"] = "false",
            ["OLLAMA_PROXY_DESKTOP_NOTIFICATIONS"] = "false",
            ["OLLAMA_PROXY_TELEMETRY_NVIDIA_SMI"] = "false",
            ["OLLAMA_PROXY_SERVER_DRAIN_TIMEOUT"] = "3s",
        };
        foreach (var id in new[] { "OLLAMA_NPU", "OLLAMA_IGPU", "OLLAMA_NVIDIA", "OLLAMA_CPU" })
        {
            settings[$"OLLAMA_PROXY_BACKENDS_{id}_TIMEOUTS_FIRST_BYTE"] = "2s";
            settings[$"OLLAMA_PROXY_BACKENDS_{id}_HEALTH_BASE_EJECTION"] = "1s";
            settings[$"OLLAMA_PROXY_BACKENDS_{id}_HEALTH_MAX_EJECTION"] = "4s";
            if (maxConcurrent is { } slots)
            {
                settings[$"OLLAMA_PROXY_BACKENDS_{id}_MAX_CONCURRENT"] = slots.ToString(CultureInfo.InvariantCulture);
            }
        }

        return settings;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        var options = ChaosOptions.Parse(args);
        var gateway = Path.Combine(AppContext.BaseDirectory, "ollama-proxy.dll");
        var work = Directory.CreateTempSubdirectory("ollama-proxy-chaos-");
        var clock = Stopwatch.StartNew();
        Console.WriteLine(FormattableString.Invariant(
            $"chaos ({(options.Short ? "short" : "full")}): {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, load average {LoadAverage()}"));
        Console.WriteLine("each daemon: ollama-proxy --simulate, first-byte timeout 2 s, ejection 1-4 s, drain 3 s, D-Bus off");

        var results = new List<(string Name, bool Passed)>();
        var failedLogs = new List<string>();

        // The mixed load and the bad input on the default slots (one per device, so requests queue),
        // at a pace where a short answer takes milliseconds.
        await OnDaemonAsync("daemon 1", options.TimeScale, maxConcurrent: null,
        [
            ("bad input", (daemon, clients) => BadInputCheck.RunAsync(daemon, clients, options)),
            ("backend faults", (daemon, clients) => BackendFaultsCheck.RunAsync(daemon, clients, options)),
        ]).ConfigureAwait(false);

        // Streams that stay open: 64 slots per device, so every never-reading client holds a stream
        // and every client of the SIGTERM check is under way when the signal comes, at a pace where
        // the long answers outlast the drain.
        await OnDaemonAsync("daemon 2", SlowTimeScale, maxConcurrent: 64,
        [
            ("clients that never read", (daemon, clients) => NeverReadCheck.RunAsync(daemon, clients, options)),
            ("SIGTERM under load", (daemon, clients) => SigtermCheck.RunAsync(daemon, clients, options)),
        ]).ConfigureAwait(false);

        if (failedLogs.Count == 0) work.Delete(recursive: true);
        var failed = results.Count(r => !r.Passed);
        Console.WriteLine();
        Console.WriteLine(FormattableString.Invariant(
            $"chaos: {results.Count} checks, {results.Count - failed} passed, {failed} failed{(failed > 0 ? " (" + string.Join(", ", results.Where(r => !r.Passed).Select(r => r.Name)) + ")" : "")} in {clock.Elapsed.TotalSeconds:0} s"));
        return failed == 0 ? 0 : 1;

        async Task OnDaemonAsync(string name, double timeScale, int? maxConcurrent, (string Name, Func<ChaosDaemon, ChaosClients, Task<bool>> Run)[] checks)
        {
            checks = [.. checks.Where(c => options.Only is not { } only || c.Name.StartsWith(only, StringComparison.OrdinalIgnoreCase))];
            if (checks.Length == 0) return;
            var log = Path.Combine(work.FullName, name.Replace(' ', '-') + ".log");
            ChaosDaemon daemon;
            try
            {
                daemon = await ChaosDaemon.StartAsync(gateway, timeScale, Settings(maxConcurrent), log, StartLimit).ConfigureAwait(false);
            }
            catch (Exception e) when (e is TimeoutException or InvalidOperationException or IOException or HttpRequestException)
            {
                // Its checks could not run: each counts as failed, so the suite's count stays the same.
                Console.WriteLine($"chaos: {name} did not start: {e.Message} (log: {log})");
                results.AddRange(checks.Select(c => (c.Name, false)));
                failedLogs.Add(log);
                return;
            }

            Console.WriteLine();
            Console.WriteLine(FormattableString.Invariant(
                $"{name}: --time-scale {timeScale}, {(maxConcurrent is { } slots ? $"{slots} slots" : "1 slot")} per device, HTTP {daemon.Http}, gRPC {daemon.Grpc}"));
            var before = results.Count(r => !r.Passed);
            await using (daemon.ConfigureAwait(false))
            {
                using var clients = new ChaosClients(daemon.Http, daemon.Grpc);
                foreach (var (check, run) in checks)
                {
                    Console.WriteLine();
                    Console.WriteLine($"[{check}]");
                    bool passed;
                    try
                    {
                        passed = await run(daemon, clients).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        Console.WriteLine("  ! the check itself failed: " + e);
                        passed = false;
                    }

                    Console.WriteLine(passed ? "PASS" : "FAIL");
                    results.Add((check, passed));
                }

                if (results.Count(r => !r.Passed) > before)
                {
                    failedLogs.Add(log);
                    Console.WriteLine();
                    Console.WriteLine($"{name}'s log: {log}; its last lines:");
                    Console.WriteLine(daemon.Tail());
                }
            }
        }
    }

    /// <summary>The second daemon's pace: the NVIDIA device streams 320 tokens a second, the CPU 40.</summary>
    private const double SlowTimeScale = 0.25;

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
}
