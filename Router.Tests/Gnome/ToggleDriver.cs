using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Router.Tests.DBus;
using Router.Tests.TestKit;

namespace Router.Tests.Gnome;

/// <summary>
/// The installed extension running under <c>gjs -m gnome/tests/toggle-driver.js</c>, with the
/// shell replaced by stubs, on a private session bus. It reports what a user would see (the stub
/// widgets) after every change; commands stand for a user's clicks. Killed on dispose.
/// </summary>
internal sealed class ToggleDriver : IAsyncDisposable
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly Channel<string> _replies = Channel.CreateUnbounded<string>();
    private readonly StringBuilder _stderr = new();
    private readonly object _gate = new();
    private ToggleView? _latest;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ToggleDriver(Process process)
    {
        _process = process;
    }

    public static ToggleDriver Start(ExtensionBundle bundle, PrivateBus bus)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        ArgumentNullException.ThrowIfNull(bus);
        var start = new ProcessStartInfo("gjs", ["-m", Path.Combine(ExtensionBundle.SourceDir, "tests", "toggle-driver.js"), bundle.ExtensionDir, bundle.StubsResource])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["DBUS_SESSION_BUS_ADDRESS"] = bus.Address;
        // Settings live in memory: nothing of the user's dconf is read or written.
        start.Environment["GSETTINGS_BACKEND"] = "memory";
        var process = Process.Start(start) ?? throw new InvalidOperationException("gjs did not start");
        var driver = new ToggleDriver(process);
        process.OutputDataReceived += (_, e) => driver.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (driver._stderr) driver._stderr.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return driver;
    }

    public string Stderr { get { lock (_stderr) return _stderr.ToString(); } }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            _replies.Writer.TryComplete();
            return;
        }

        if (line.StartsWith("state ", StringComparison.Ordinal))
        {
            var view = new ToggleView(JsonDocument.Parse(line.AsMemory(6)).RootElement.Clone());
            TaskCompletionSource changed;
            lock (_gate)
            {
                _latest = view;
                changed = _changed;
                _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            changed.TrySetResult();
        }
        else
        {
            _replies.Writer.TryWrite(line);
        }
    }

    /// <summary>Waits until what the toggle shows satisfies <paramref name="condition"/>; fails with the last state seen.</summary>
    public async Task<ToggleView> WaitForAsync(Func<ToggleView, bool> condition, string what, TimeSpan? timeout = null)
    {
        using var limit = new CancellationTokenSource(timeout ?? Patience);
        while (true)
        {
            ToggleView? latest;
            Task changed;
            lock (_gate)
            {
                latest = _latest;
                changed = _changed.Task;
            }

            if (latest is not null && condition(latest)) return latest;
            try
            {
                await changed.WaitAsync(limit.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"The toggle never showed {what} within {(timeout ?? Patience).TotalSeconds} s.\nlast state: {latest}\ndriver stderr:\n{Stderr}");
            }
        }
    }

    /// <summary>Sends a command (see toggle-driver.js) and waits until it is done; fails if the driver refused it.</summary>
    public async Task SendAsync(string command)
    {
        var reply = await CommandAsync(command);
        Assert.True(reply.StartsWith("ack ", StringComparison.Ordinal), $"{command}: {reply}\ndriver stderr:\n{Stderr}");
    }

    /// <summary>Sends a command a user could not carry out, and returns the driver's refusal.</summary>
    public async Task<string> SendRefusedAsync(string command)
    {
        var reply = await CommandAsync(command);
        Assert.True(reply.StartsWith("error ", StringComparison.Ordinal), $"{command} was carried out: {reply}");
        return reply;
    }

    private async Task<string> CommandAsync(string command)
    {
        await _process.StandardInput.WriteLineAsync(command);
        await _process.StandardInput.FlushAsync();
        using var limit = new CancellationTokenSource(Patience);
        try
        {
            return await _replies.Reader.ReadAsync(limit.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
        {
            throw new TimeoutException($"no answer to {command}\ndriver stderr:\n{Stderr}", e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                // A clean end: the driver disables the extension and returns.
                await _process.StandardInput.WriteLineAsync("quit");
                await _process.StandardInput.FlushAsync();
                using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _process.WaitForExitAsync(limit.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // It did not end by itself: killed below.
        }
        finally
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.Dispose();
        }
    }
}
