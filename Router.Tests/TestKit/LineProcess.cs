using System.Diagnostics;
using System.Text;
using System.Threading.Channels;

namespace Router.Tests.TestKit;

/// <summary>
/// Runs a program the test talks to while it runs (a node client, the daemon), reading its stdout
/// line by line. The process is killed (with its tree) on dispose if it is still running.
/// </summary>
internal sealed class LineProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string _what;

    private LineProcess(Process process, string what)
    {
        _process = process;
        _what = what;
    }

    /// <summary>The process id (for signals a test sends).</summary>
    public int Id => _process.Id;

    public string Stdout { get { lock (_stdout) { return _stdout.ToString(); } } }
    public string Stderr { get { lock (_stderr) { return _stderr.ToString(); } } }

    /// <param name="what">How to name the program in failures.</param>
    public static LineProcess Start(ProcessStartInfo info, string what)
    {
        ArgumentNullException.ThrowIfNull(info);
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.UseShellExecute = false;
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var running = new LineProcess(process, what);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                running._lines.Writer.TryComplete();
                running._stdoutClosed.TrySetResult();
                return;
            }

            lock (running._stdout)
            {
                running._stdout.AppendLine(e.Data);
            }

            running._lines.Writer.TryWrite(e.Data);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                running._stderrClosed.TrySetResult();
                return;
            }

            lock (running._stderr)
            {
                running._stderr.AppendLine(e.Data);
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return running;
    }

    /// <summary>Waits for the next stdout line that starts with <paramref name="prefix"/>.</summary>
    public Task<string> WaitForLineAsync(string prefix, TimeSpan timeout) =>
        WaitForLineAsync(line => line.StartsWith(prefix, StringComparison.Ordinal), $"a line starting with '{prefix}'", timeout);

    /// <summary>Waits for the next stdout line that <paramref name="match"/> accepts.</summary>
    /// <param name="what">The line looked for, for the failure message.</param>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, string what, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(match);
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await foreach (var line in _lines.Reader.ReadAllAsync(cts.Token))
            {
                if (match(line))
                {
                    return line;
                }
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"No {what} within {timeout} from {_what}. stdout:\n{Stdout}\nstderr:\n{Stderr}");
        }

        throw new InvalidOperationException($"{_what} ended without {what}. stdout:\n{Stdout}\nstderr:\n{Stderr}");
    }

    /// <summary>
    /// Waits until stdout contains <paramref name="text"/>, whether it was printed already (lines
    /// consumed by earlier waits included) or comes later. For log lines, whose order against
    /// other output is not fixed.
    /// </summary>
    public async Task WaitForTextAsync(string text, TimeSpan timeout)
    {
        if (Stdout.Contains(text, StringComparison.Ordinal))
        {
            return;
        }

        await WaitForLineAsync(line => line.Contains(text, StringComparison.Ordinal) || Stdout.Contains(text, StringComparison.Ordinal), $"'{text}'", timeout);
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            await Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task).WaitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{_what} did not exit within {timeout}. stdout:\n{Stdout}\nstderr:\n{Stderr}");
        }

        return _process.ExitCode;
    }

    public bool HasExited => _process.HasExited;

    public ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Exited between the check and the kill.
        }

        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}
