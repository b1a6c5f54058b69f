using System.Collections.Immutable;
using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;

namespace Router.Telemetry.Sensors;

/// <summary>
/// Asks <c>nvidia-smi</c> for temperature, power draw, utilisation and fan speed of every GPU, within
/// a time limit (a wedged driver can hang nvidia-smi for minutes; the process tree is killed). A
/// machine without nvidia-smi reads as <see cref="NvidiaReading.Absent"/>, silently, and the binary is
/// not looked for again.
/// </summary>
public sealed class NvidiaSmiReader
{
    public const string DefaultExecutable = "nvidia-smi";
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(2);

    internal static readonly string[] Arguments =
        ["--query-gpu=temperature.gpu,power.draw,utilization.gpu,fan.speed", "--format=csv,noheader,nounits"];

    private const int FieldCount = 4;

    private readonly string _executable;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private volatile string? _resolved;
    private volatile bool _absent;

    public NvidiaSmiReader(TimeProvider timeProvider)
        : this(timeProvider, DefaultExecutable, DefaultTimeout)
    {
    }

    /// <param name="executable">A name looked up on PATH, or a path.</param>
    public NvidiaSmiReader(TimeProvider timeProvider, string executable, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentException.ThrowIfNullOrEmpty(executable);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        _time = timeProvider;
        _executable = executable;
        _timeout = timeout;
    }

    public async ValueTask<NvidiaReading> ReadAsync(CancellationToken cancellationToken = default)
    {
        var path = _absent ? null : _resolved ??= Resolve(_executable);
        if (path is null)
        {
            _absent = true;
            return new NvidiaReading(_time.GetUtcNow(), [], $"{_executable} is not installed", Absent: true);
        }

        var result = await RunAsync(path, cancellationToken).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        return result.Error is { } error
            ? new NvidiaReading(now, [], error, Absent: result.Absent)
            : Parse(now, result.Output);
    }

    /// <summary>Parses nvidia-smi's CSV (no header, no units): one GPU per line, <c>[N/A]</c> and <c>[Not Supported]</c> as null.</summary>
    internal static NvidiaReading Parse(DateTimeOffset now, string output)
    {
        var gpus = ImmutableArray.CreateBuilder<NvidiaGpuReading>();
        Span<Range> fields = stackalloc Range[FieldCount + 1];
        foreach (var rawLine in output.AsSpan().EnumerateLines())
        {
            var line = rawLine.Trim();
            if (line.IsEmpty)
            {
                continue;
            }

            if (line.Split(fields, ',') != FieldCount)
            {
                return new NvidiaReading(now, [], $"nvidia-smi printed an unexpected line: '{SysfsNames.Truncate(line.ToString())}'");
            }

            gpus.Add(new NvidiaGpuReading(
                gpus.Count,
                Field(line[fields[0]]),
                Field(line[fields[1]]),
                Field(line[fields[2]]),
                Field(line[fields[3]])));
        }

        return gpus.Count == 0
            ? new NvidiaReading(now, [], "nvidia-smi reported no GPU")
            : new NvidiaReading(now, gpus.ToImmutable());
    }

    private static double? Field(ReadOnlySpan<char> text) =>
        double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)
            ? value
            : null;

    private async Task<RunResult> RunAsync(string path, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
            CreateNoWindow = true,
        };
        foreach (var argument in Arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("no process started");
        }
        catch (Win32Exception e)
        {
            // Removed since it was resolved, or not executable: absent from now on.
            _absent = true;
            return new RunResult("", $"{path} could not be started: {e.Message}", Absent: true);
        }

        using (process)
        using (var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            limit.CancelAfter(_timeout);
            try
            {
                var stdout = process.StandardOutput.ReadToEndAsync(limit.Token);
                var stderr = process.StandardError.ReadToEndAsync(limit.Token);
                await process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
                var output = await stdout.ConfigureAwait(false);
                var errors = await stderr.ConfigureAwait(false);
                return process.ExitCode == 0
                    ? new RunResult(output, null)
                    : new RunResult("", $"nvidia-smi exited with {process.ExitCode}: {SysfsNames.Truncate(errors.Trim())}");
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                Kill(process);
                return new RunResult("", $"nvidia-smi did not answer within {_timeout.TotalSeconds:0.###} s and was killed");
            }
            catch (OperationCanceledException)
            {
                Kill(process);
                throw;
            }
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It exited between the time-out and the kill: nothing left to stop.
        }
    }

    /// <summary>The executable's full path, or null when it is not there. Names without a slash are looked up on PATH.</summary>
    private static string? Resolve(string executable)
    {
        if (executable.Contains('/', StringComparison.Ordinal))
        {
            return File.Exists(executable) ? executable : null;
        }

        var pathVariable = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var dir in pathVariable.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, executable);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private readonly record struct RunResult(string Output, string? Error, bool Absent = false);
}
