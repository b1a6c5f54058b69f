using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Router.Benchmarks.Chaos;

/// <summary>
/// The daemon under test, in a process of its own as users run it: <c>ollama-proxy --simulate</c>
/// on ports the system picks (read back from its "listening" line), with the settings the suite
/// needs passed as <c>OLLAMA_PROXY_*</c> variables. Its output goes to a log file; the error lines
/// are counted. Disposing kills it if it is still running, and so does the suite's end however it
/// comes (Ctrl-C, SIGTERM, SIGHUP, an exception out of Main): no daemon outlives the suite.
/// </summary>
internal sealed class ChaosDaemon : IAsyncDisposable
{
    private const string ListeningPrefix = "ollama-proxy listening: ";

    /// <summary>The daemons started and not yet disposed.</summary>
    private static readonly ConcurrentDictionary<ChaosDaemon, bool> Running = new();

    /// <summary>
    /// Kill the running daemons when the suite is told to stop, then let the signal end the suite as
    /// it would have (the handlers do not cancel it). Kept in a field: a registration that is
    /// collected stops handling.
    /// </summary>
    private static readonly PosixSignalRegistration[] StopOnSignals =
        [.. new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP, PosixSignal.SIGQUIT }
            .Select(signal => PosixSignalRegistration.Create(signal, _ => KillRunning()))];

    static ChaosDaemon() => AppDomain.CurrentDomain.ProcessExit += (_, _) => KillRunning();

    private static void KillRunning()
    {
        foreach (var daemon in Running.Keys)
        {
            try
            {
                daemon._process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // It had exited already.
            }
        }
    }

    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly TaskCompletionSource<(Uri Http, Uri Grpc)> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Queue<string> _tail = new();
    private readonly List<string> _errors = new();
    private int _errorLines;

    private ChaosDaemon(Process process, string logPath)
    {
        _process = process;
        LogPath = logPath;
        _log = new StreamWriter(logPath) { AutoFlush = true };
    }

    public Uri Http { get; private set; } = null!;
    public Uri Grpc { get; private set; } = null!;
    public string LogPath { get; }
    public int Id => _process.Id;
    public bool HasExited => _process.HasExited;

    /// <summary>Lines the daemon logged at error level or worse (<c>fail:</c>, <c>crit:</c>), and unhandled exceptions.</summary>
    public int ErrorLines => Volatile.Read(ref _errorLines);

    public static async Task<ChaosDaemon> StartAsync(string gatewayDll, double timeScale, IReadOnlyDictionary<string, string> settings, string logPath, TimeSpan startLimit)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(gatewayDll)!,
        };
        foreach (var arg in new[] { gatewayDll, "--simulate", "--time-scale", timeScale.ToString(CultureInfo.InvariantCulture), "--http-port", "0", "--grpc-port", "0" })
        {
            start.ArgumentList.Add(arg);
        }

        // Only the suite's settings: none of the caller's OLLAMA_PROXY_* (API keys, ports) may leak in.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("OLLAMA_PROXY_", StringComparison.Ordinal) || k == "OLLAMA_ORIGINS").ToList())
        {
            start.Environment.Remove(key);
        }

        foreach (var (name, value) in settings)
        {
            start.Environment[name] = value;
        }

        var daemon = new ChaosDaemon(new Process { StartInfo = start, EnableRaisingEvents = true }, logPath);
        daemon._process.OutputDataReceived += (_, e) => daemon.OnLine(e.Data);
        daemon._process.ErrorDataReceived += (_, e) => daemon.OnLine(e.Data);
        daemon._process.Exited += (_, _) => daemon._listening.TrySetException(new InvalidOperationException($"the daemon exited with {daemon._process.ExitCode} before listening"));
        daemon._process.Start();
        Running.TryAdd(daemon, true);
        daemon._process.BeginOutputReadLine();
        daemon._process.BeginErrorReadLine();
        try
        {
            (daemon.Http, daemon.Grpc) = await daemon._listening.Task.WaitAsync(startLimit).ConfigureAwait(false);
            await daemon.WaitUntilHealthyAsync(startLimit).ConfigureAwait(false);
        }
        catch
        {
            await daemon.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return daemon;
    }

    private void OnLine(string? line)
    {
        if (line is null) return;
        lock (_tail)
        {
            _log.WriteLine(line);
            _tail.Enqueue(line);
            if (_tail.Count > 60) _tail.Dequeue();
        }

        if (line.Contains(" fail: ", StringComparison.Ordinal) || line.Contains(" crit: ", StringComparison.Ordinal) || line.StartsWith("Unhandled exception", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _errorLines);
            lock (_errors)
            {
                if (_errors.Count < 10) _errors.Add(line.Length <= 300 ? line : line[..300] + "…");
            }
        }

        if (line.StartsWith(ListeningPrefix, StringComparison.Ordinal))
        {
            // "ollama-proxy listening: HTTP http://127.0.0.1:41234/  gRPC http://127.0.0.1:41235/  (simulated backends)"
            var words = line[ListeningPrefix.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            _listening.TrySetResult((new Uri(words[1]), new Uri(words[3])));
        }
    }

    /// <summary>The first error lines it logged (up to ten, shortened).</summary>
    public IReadOnlyList<string> ErrorSamples()
    {
        lock (_errors)
        {
            return [.. _errors];
        }
    }

    /// <summary>The last lines of its output, for a failure report.</summary>
    public string Tail()
    {
        lock (_tail)
        {
            return string.Join('\n', _tail);
        }
    }

    /// <summary>Resident memory now, from /proc (the figure the kernel charges the process).</summary>
    public long RssBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException("no VmRSS in /proc/<pid>/status");
    }

    public async Task SendSigtermAsync()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync().ConfigureAwait(false);
    }

    /// <summary>The exit code, or null if it is still running after <paramref name="limit"/>.</summary>
    public async Task<int?> WaitForExitAsync(TimeSpan limit)
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(limit).ConfigureAwait(false);
            return _process.ExitCode;
        }
        catch (TimeoutException)
        {
            return null;
        }
    }

    /// <summary>Waits until /backends shows every backend healthy (the suite starts from a router at rest).</summary>
    public async Task WaitUntilHealthyAsync(TimeSpan limit)
    {
        using var http = new HttpClient { BaseAddress = Http, Timeout = TimeSpan.FromSeconds(10) };
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var backends = await BackendsAsync(http).ConfigureAwait(false);
            if (backends.Count > 0 && backends.All(b => b.Health == "healthy" && b.ModelsKnown)) return;
            if (clock.Elapsed > limit)
            {
                throw new TimeoutException("the backends did not all become healthy: " + string.Join(", ", backends.Select(b => $"{b.Id} {b.Health}")));
            }

            await Task.Delay(100).ConfigureAwait(false);
        }
    }

    /// <summary>Each backend's health, requests in flight and waiting (GET /backends).</summary>
    public static async Task<List<BackendState>> BackendsAsync(HttpClient http)
    {
        using var document = JsonDocument.Parse(await http.GetStringAsync(new Uri("/backends", UriKind.Relative)).ConfigureAwait(false));
        var result = new List<BackendState>();
        foreach (var backend in document.RootElement.GetProperty("backends").EnumerateArray())
        {
            var queued = backend.GetProperty("queue").EnumerateObject().Sum(p => p.Value.GetInt32());
            result.Add(new BackendState(
                backend.GetProperty("id").GetString()!,
                backend.GetProperty("health").GetString()!,
                backend.GetProperty("models_known").GetBoolean(),
                backend.GetProperty("metrics").GetProperty("in_flight").GetInt32(),
                queued));
        }

        return result;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().ConfigureAwait(false);
        }

        Running.TryRemove(this, out _);

        _process.Dispose();
        lock (_tail)
        {
            _log.Dispose();
        }
    }
}

internal sealed record BackendState(string Id, string Health, bool ModelsKnown, int InFlight, int Queued);
