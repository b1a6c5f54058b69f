using System.Diagnostics;

namespace Router.Benchmarks.Chaos;

/// <summary>
/// Check 4: SIGTERM while requests of every kind stream, some short enough to finish within the
/// drain and some too long. Every client sees a clean end: its whole answer, or an SSE error event,
/// an NDJSON error line, a WebSocket error frame and close 1001, gRPC UNAVAILABLE; requests sent
/// after the signal get a 503 (gRPC UNAVAILABLE) or, once the listener is closed, a refused
/// connection (or, crossing the listener's close, a connection reset or closed with no answer). The daemon exits 0. This check ends the daemon it runs on.
/// </summary>
internal static class SigtermCheck
{
    private static readonly RequestKind[] Kinds = [RequestKind.Chat, RequestKind.ChatStream, RequestKind.Generate, RequestKind.WebSocket, RequestKind.Grpc];

    /// <summary>Answer lengths: at the suite's pace the first finish within the drain, the last cannot.</summary>
    private static readonly int[] Lengths = [20, 200, 2000];

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ExitLimit = TimeSpan.FromSeconds(30);

    public static async Task<bool> RunAsync(ChaosDaemon daemon, ChaosClients clients, ChaosOptions options)
    {
        var random = new Random(options.Seed);
        var inFlight = new Tally();
        var late = new Tally();
        var running = new List<Task>();
        var number = 0;
        void Start(Tally tally, int count)
        {
            for (var i = 0; i < count; i++, number++)
            {
                var kind = Kinds[number % Kinds.Length];
                var request = new ChaosRequest(number, kind, random.Next(4), Lengths[random.Next(Lengths.Length)], random.Next(2) == 0, Deadline, UntilServerCloses: true);
                running.Add(Task.Run(async () =>
                {
                    var started = Stopwatch.GetTimestamp();
                    foreach (var outcome in await clients.SendAsync(request).ConfigureAwait(false))
                    {
                        tally.Add(outcome, kind.ToString(), Stopwatch.GetElapsedTime(started).TotalMilliseconds, $"#{request.Number}");
                    }
                }));
            }
        }

        Start(inFlight, options.SigtermClients);
        var streaming = await WaitForStreamsAsync(clients.Http, options.SigtermClients / 2).ConfigureAwait(false);
        var signalled = Stopwatch.StartNew();
        await daemon.SendSigtermAsync().ConfigureAwait(false);
        // Requests sent after the signal: not started, so a 503 or, once the listener closed, a refused connection.
        await Task.Delay(100).ConfigureAwait(false);
        Start(late, options.SigtermClients / 4);
        var exitCode = await daemon.WaitForExitAsync(ExitLimit).ConfigureAwait(false);
        var exitedAfter = signalled.Elapsed;
        await Task.WhenAll(running).ConfigureAwait(false);

        Console.WriteLine(FormattableString.Invariant(
            $"SIGTERM with {streaming} requests in flight ({inFlight.Total} started; answers of {string.Join(", ", Lengths)} tokens), then {late.Total} more sent after it"));
        Console.WriteLine($"  in flight: {inFlight.Count(Verdict.Served)} finished within the drain, {inFlight.Count(Verdict.DocumentedError)} ended by it ({inFlight.Breakdown(Verdict.DocumentedError)})");
        // A refused connection is a clean "not started" only for a request sent once the daemon stopped listening.
        var notStarted = late.CountWhat(Verdict.Lost, ChaosClients.ConnectionRefused) + late.CountWhat(Verdict.Lost, ChaosClients.ResetBeforeAnswer);
        var lateUnclean = late.Count(Verdict.Lost) + late.Count(Verdict.ServerError) - notStarted;
        Console.WriteLine(
            $"  sent after it: {late.Count(Verdict.DocumentedError)} refused by the router ({late.Breakdown(Verdict.DocumentedError)}), "
            + $"{late.CountWhat(Verdict.Lost, ChaosClients.ConnectionRefused)} found the listener closed (connection refused), "
            + $"{late.CountWhat(Verdict.Lost, ChaosClients.ResetBeforeAnswer)} had their new connection reset or closed unanswered as the listener closed, {late.Count(Verdict.Served)} served");
        var unclean = inFlight.Count(Verdict.Lost) + inFlight.Count(Verdict.ServerError) + lateUnclean;
        Console.WriteLine($"  unclean ends: {unclean}");
        foreach (var example in inFlight.Examples.Concat(late.Examples.Where(e => !e.Contains(ChaosClients.ConnectionRefused, StringComparison.Ordinal) && !e.Contains(ChaosClients.ResetBeforeAnswer, StringComparison.Ordinal))))
        {
            Console.WriteLine("  ! " + example);
        }

        Console.WriteLine(FormattableString.Invariant(
            $"daemon: {(exitCode is { } code ? $"exited {code}" : "STILL RUNNING")} {exitedAfter.TotalSeconds:0.0} s after SIGTERM (drain 3 s)"));
        return unclean == 0 && exitCode == 0;
    }

    /// <summary>Waits until this many requests hold a slot (or a few seconds pass): the signal must find them under way.</summary>
    private static async Task<int> WaitForStreamsAsync(HttpClient http, int wanted)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var inFlight = (await ChaosDaemon.BackendsAsync(http).ConfigureAwait(false)).Sum(b => b.InFlight);
            if (inFlight >= wanted || clock.Elapsed > TimeSpan.FromSeconds(5)) return inFlight;
            await Task.Delay(20).ConfigureAwait(false);
        }
    }
}
