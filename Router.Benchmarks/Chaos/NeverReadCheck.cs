using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Grpc.Net.Client;
using Router.Gateway.Grpc.Contracts.Compute;

namespace Router.Benchmarks.Chaos;

/// <summary>
/// Check 2: streaming clients that ask for long answers and never read a byte of them, a quarter
/// each SSE, NDJSON (raw sockets: nothing reads the answer, not even a client library's buffer),
/// WebSocket (ClientWebSocket, no receive) and gRPC (a server stream never moved). The router must
/// hold back (backpressure) instead of buffering what they do not take: the daemon's resident
/// memory may grow by a bounded amount, stated as the figure. When they leave, every slot comes back.
/// </summary>
internal static class NeverReadCheck
{
    /// <summary>The bound on the daemon's growth: about 1 MiB per client would mean answers are buffered.</summary>
    private const long GrowthLimitBytes = 256L * 1024 * 1024;

    /// <summary>Far more than the socket buffers hold: llama3.2's trained context, asked for in full.</summary>
    private const int LongAnswer = 120_000;
    private const int LongContext = 131_072;

    public static async Task<bool> RunAsync(ChaosDaemon daemon, ChaosClients clients, ChaosOptions options)
    {
        var hold = options.Short ? TimeSpan.FromSeconds(8) : TimeSpan.FromSeconds(30);
        Console.WriteLine($"{options.NeverReadingClients} clients ask for {LongAnswer} tokens each (a quarter each SSE, NDJSON, WebSocket, gRPC stream) and never read; held {hold.TotalSeconds:0} s");
        GC.Collect();
        var before = await SettledRssAsync(daemon).ConfigureAwait(false);
        var port = daemon.Http.Port;
        using var grpc = GrpcChannel.ForAddress(daemon.Grpc, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { UseProxy = false, EnableMultipleHttp2Connections = true },
            MaxRetryAttempts = 0,
        });
        var compute = new ComputeService.ComputeServiceClient(grpc);
        var opened = new List<IDisposable>();
        var failedToOpen = 0;
        try
        {
            for (var i = 0; i < options.NeverReadingClients; i++)
            {
                var priority = ChaosRequest.PriorityNames[i % 4];
                try
                {
                    opened.Add((i / 4 % 4) switch
                    {
                        0 => await RawPostAsync(port, "/v1/chat/completions", priority,
                            $$"""{"model":"{{ChaosClients.Model}}","messages":[{"role":"user","content":"never read {{i}}"}],"max_tokens":{{LongAnswer}},"stream":true}""").ConfigureAwait(false),
                        1 => await RawPostAsync(port, "/api/generate", priority,
                            $$$"""{"model":"{{{ChaosClients.Model}}}","prompt":"never read {{{i}}}","options":{"num_predict":{{{LongAnswer}}},"num_ctx":{{{LongContext}}}}}""").ConfigureAwait(false),
                        2 => await SilentWebSocketAsync(clients.HttpEndpoint, i, priority).ConfigureAwait(false),
                        _ => compute.GenerateStream(new GenerateRequest
                        {
                            Model = ChaosClients.Model,
                            Prompt = "never read " + i,
                            Options = new GenerationOptions { MaxTokens = LongAnswer, ContextLength = LongContext },
                            Annotations = new JobAnnotations { Priority = i % 4 },
                        }),
                    });
                }
                catch (Exception e) when (e is SocketException or WebSocketException or IOException)
                {
                    failedToOpen++;
                }
            }

            var peak = before;
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < hold)
            {
                peak = Math.Max(peak, daemon.RssBytes());
                await Task.Delay(200).ConfigureAwait(false);
            }

            var during = await ChaosDaemon.BackendsAsync(clients.Http).ConfigureAwait(false);
            var growth = peak - before;
            Console.WriteLine(FormattableString.Invariant(
                $"daemon RSS {Mb(before)} MiB before, peak {Mb(peak)} MiB with {opened.Count} never-reading clients connected: +{Mb(growth)} MiB ({growth / 1024.0 / Math.Max(1, opened.Count):0} KiB per client); bound {Mb(GrowthLimitBytes)} MiB"));
            Console.WriteLine($"  while they were connected: {string.Join(", ", during.Select(s => $"{s.Id} {s.InFlight}/{s.Queued}"))} (in flight/queued)");
            if (failedToOpen > 0) Console.WriteLine($"  ! {failedToOpen} clients could not connect");

            foreach (var client in opened) client.Dispose();
            opened.Clear();
            var (settled, after, states) = await BackendFaultsCheck.WaitForRestAsync(clients.Http, TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            var rssAfter = await SettledRssAsync(daemon).ConfigureAwait(false);
            Console.WriteLine(FormattableString.Invariant(
                $"they left: {(settled ? "every slot back, every queue empty" : "NOT at rest")} {after.TotalSeconds:0.0} s later ({string.Join(", ", states.Select(s => $"{s.Id} {s.InFlight}/{s.Queued}"))}); RSS {Mb(rssAfter)} MiB"));
            Console.WriteLine($"daemon: {(daemon.HasExited ? "EXITED" : "running")}");
            return growth <= GrowthLimitBytes && settled && failedToOpen == 0 && !daemon.HasExited;
        }
        finally
        {
            foreach (var client in opened) client.Dispose();
        }
    }

    private static string Mb(long bytes) => (bytes / 1024.0 / 1024.0).ToString("0", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>RSS once it has stopped moving (a collection may be under way).</summary>
    private static async Task<long> SettledRssAsync(ChaosDaemon daemon)
    {
        await Task.Delay(1000).ConfigureAwait(false);
        return daemon.RssBytes();
    }

    /// <summary>An HTTP/1.1 POST written to a socket that is then never read from.</summary>
    private static async Task<IDisposable> RawPostAsync(int port, string path, string priority, string json)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port)).ConfigureAwait(false);
            var body = Encoding.UTF8.GetBytes(json);
            var head = Encoding.ASCII.GetBytes(
                $"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nX-Priority: {priority}\r\nContent-Length: {body.Length}\r\n\r\n");
            await socket.SendAsync(head.Concat(body).ToArray()).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>A WebSocket that sends one request and never receives.</summary>
    private static async Task<IDisposable> SilentWebSocketAsync(Uri http, int number, string priority)
    {
        var socket = new ClientWebSocket();
        try
        {
            await socket.ConnectAsync(ChaosClients.WebSocketUri(http), CancellationToken.None).ConfigureAwait(false);
            var frame = $$"""{"request_id":"never-{{number}}","model":"{{ChaosClients.Model}}","prompt":"never read","options":{"num_predict":{{LongAnswer}},"num_ctx":{{LongContext}}},"priority":"{{priority}}"}""";
            await socket.SendAsync(Encoding.UTF8.GetBytes(frame), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None).ConfigureAwait(false);
            return new AbortOnDispose(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Leaves the way a client that never reads leaves: the connection just goes.</summary>
    private sealed class AbortOnDispose(ClientWebSocket socket) : IDisposable
    {
        public void Dispose()
        {
            socket.Abort();
            socket.Dispose();
        }
    }
}
