using System.Diagnostics;
using System.Text;
using System.Threading.Channels;

namespace Router.Tests.Grpc;

/// <summary>
/// Runs a Node end-to-end client from Router.Tests/e2e, reading its stdout line by line. The
/// process is killed (with its tree) on dispose if it is still running.
/// </summary>
internal sealed class NodeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private NodeProcess(Process process)
    {
        _process = process;
    }

    public static string RepoRoot => TestKit.ChildProcess.RepoRoot;

    public string Stdout { get { lock (_stdout) { return _stdout.ToString(); } } }
    public string Stderr { get { lock (_stderr) { return _stderr.ToString(); } } }

    public static NodeProcess Start(string script, params string[] args)
    {
        var e2e = Path.Combine(RepoRoot, "Router.Tests", "e2e");
        if (!Directory.Exists(Path.Combine(e2e, "node_modules", "@grpc", "grpc-js")))
        {
            throw new InvalidOperationException($"Node modules missing: run `npm install` in {e2e} (scripts/test does).");
        }

        var info = new ProcessStartInfo("node")
        {
            WorkingDirectory = e2e,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(e2e, script));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var node = new NodeProcess(process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                node._lines.Writer.TryComplete();
                node._stdoutClosed.TrySetResult();
                return;
            }

            lock (node._stdout)
            {
                node._stdout.AppendLine(e.Data);
            }

            node._lines.Writer.TryWrite(e.Data);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                node._stderrClosed.TrySetResult();
                return;
            }

            lock (node._stderr)
            {
                node._stderr.AppendLine(e.Data);
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return node;
    }

    /// <summary>Runs a script to its end and returns its exit code.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string script, TimeSpan timeout, params string[] args)
    {
        await using var node = Start(script, args);
        var code = await node.WaitForExitAsync(timeout);
        return (code, node.Stdout, node.Stderr);
    }

    /// <summary>Waits for the next stdout line that starts with <paramref name="prefix"/>.</summary>
    public async Task<string> WaitForLineAsync(string prefix, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await foreach (var line in _lines.Reader.ReadAllAsync(cts.Token))
            {
                if (line.StartsWith(prefix, StringComparison.Ordinal))
                {
                    return line;
                }
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"No line starting with '{prefix}' within {timeout}. stdout:\n{Stdout}\nstderr:\n{Stderr}");
        }

        throw new InvalidOperationException($"The script ended without a line starting with '{prefix}'. stdout:\n{Stdout}\nstderr:\n{Stderr}");
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
            throw new TimeoutException($"The node script did not exit within {timeout}. stdout:\n{Stdout}\nstderr:\n{Stderr}");
        }

        return _process.ExitCode;
    }

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
