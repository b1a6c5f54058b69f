using System.Diagnostics;

namespace Router.Tests.Gnome;

/// <summary>
/// A private session bus: its own <c>dbus-daemon</c>, stopped on dispose. Processes given
/// <see cref="Address"/> as <c>DBUS_SESSION_BUS_ADDRESS</c> meet there and nowhere else.
/// </summary>
internal sealed class SessionBus : IAsyncDisposable
{
    private static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(20);

    private readonly Process _process;

    private SessionBus(Process process, string address)
    {
        _process = process;
        Address = address;
    }

    public string Address { get; }

    public static async Task<SessionBus> StartAsync()
    {
        var start = new ProcessStartInfo("dbus-daemon")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "--session", "--nofork", "--print-address=1" }) start.ArgumentList.Add(arg);
        var process = Process.Start(start) ?? throw new InvalidOperationException("dbus-daemon did not start");
        try
        {
            using var limit = new CancellationTokenSource(StartLimit);
            var address = await process.StandardOutput.ReadLineAsync(limit.Token);
            if (string.IsNullOrEmpty(address))
            {
                Assert.Fail("dbus-daemon printed no address: " + await process.StandardError.ReadToEndAsync(limit.Token));
            }

            return new SessionBus(process, address);
        }
        catch
        {
            process.Kill();
            process.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) _process.Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}
