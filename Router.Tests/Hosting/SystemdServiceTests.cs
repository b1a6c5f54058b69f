using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Router.Tests.EndToEnd;
using Router.Tests.TestKit;

namespace Router.Tests.Hosting;

/// <summary>
/// The daemon in its own process as systemd starts a <c>Type=notify</c> service: with
/// <c>$NOTIFY_SOCKET</c> (a datagram socket this test binds in place of systemd's) and
/// <c>$SYSTEMD_EXEC_PID</c> (systemd 248+ sets it to the service's own process id).
/// </summary>
public sealed class SystemdServiceTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Daemon_UnderSystemd_ReadyOnceBothListenersAreBoundJournalFormatStoppingOnSigterm()
    {
        var work = Directory.CreateTempSubdirectory("ollama-proxy-notify-");
        try
        {
            var socketPath = Path.Combine(work.FullName, "notify");
            using var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            notify.Bind(new UnixDomainSocketEndPoint(socketPath));
            int httpPort = FreePort(), grpcPort = FreePort();

            // The shell execs the daemon, so its $$ is the daemon's process id, as systemd would say.
            var start = new ProcessStartInfo("/bin/sh") { WorkingDirectory = AppContext.BaseDirectory };
            foreach (var arg in new[]
            {
                "-c", "SYSTEMD_EXEC_PID=$$ exec \"$@\"", "sh",
                "dotnet", CliProcess.GatewayDll, "--simulate", "--time-scale", "0.1",
                "--http-port", httpPort.ToString(CultureInfo.InvariantCulture), "--grpc-port", grpcPort.ToString(CultureInfo.InvariantCulture),
            })
            {
                start.ArgumentList.Add(arg);
            }

            foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("OLLAMA_PROXY_", StringComparison.Ordinal)).ToList())
            {
                start.Environment.Remove(key);
            }

            start.Environment["NOTIFY_SOCKET"] = socketPath;
            await using var daemon = LineProcess.Start(start, "ollama-proxy under systemd");

            var ready = await ReceiveAsync(notify, daemon);

            // Ready means ready: both listeners take connections the moment systemd hears it.
            foreach (var port in new[] { httpPort, grpcPort })
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
            }

            Assert.Equal(["READY=1", $"STATUS=HTTP http://127.0.0.1:{httpPort}/  gRPC http://127.0.0.1:{grpcPort}/"], ready.Split('\n'));

            // The journal's format: the syslog priority (6, information) leads the line, no time stamp.
            var logLine = await daemon.WaitForLineAsync("<6>Router.SystemState[1101] Efficiency mode ", Limit);
            Assert.DoesNotContain(" info: ", logLine, StringComparison.Ordinal);

            // systemctl stop sends SIGTERM; the daemon says it is stopping.
            using (var kill = Process.Start("kill", ["-TERM", daemon.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
                Assert.Equal(0, kill.ExitCode);
            }

            Assert.Equal("STOPPING=1", await ReceiveAsync(notify, daemon));
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static async Task<string> ReceiveAsync(Socket socket, LineProcess daemon)
    {
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(Limit);
        try
        {
            var received = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            return Encoding.UTF8.GetString(buffer, 0, received);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"No notification within {Limit}. stdout:\n{daemon.Stdout}\nstderr:\n{daemon.Stderr}");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
