using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Router.Benchmarks.Chaos;

/// <summary>
/// Check 1: one simulated backend (the one a normal request goes to first) cycles through refusing
/// connections, answering 503, hanging, dropping each generation after a few tokens, and streaming
/// slowly, switched through <c>POST /simulation</c>, while the mixed load runs on every surface at
/// every priority. Zero lost: every request is served or gets a documented error before its
/// deadline; none gets a 500. Afterwards every slot comes back and every queue empties.
/// </summary>
internal static class BackendFaultsCheck
{
    /// <summary>
    /// The faults in the order they are applied. Each is switched on for a phase, then cleared, and
    /// the next waits until the device is back in service (the failures of the last one may have
    /// ejected it), so every fault meets requests.
    /// </summary>
    private static readonly (string Name, string Faults)[] Phases =
    [
        ("refuse connections", """{"refuse_connections":true}"""),
        ("503", """{"error_status":503}"""),
        ("hang", """{"hang":true}"""),
        ("drop after 3 tokens", """{"drop_after_tokens":3}"""),
        ("slow stream (20 ms per token)", """{"slow_token_ms":20}"""),
    ];

    /// <summary>How long the next fault waits at most for the device to be back in service.</summary>
    private static readonly TimeSpan RecoveryLimit = TimeSpan.FromSeconds(20);

    /// <summary>What one phase did: requests the faulted device finished while it lasted, and the failures counted against it (those it held fail at their first-byte timeout, after the phase).</summary>
    private sealed record PhaseResult(string Name, long Requests, long Failures, TimeSpan Recovery);

    private static readonly (RequestKind Kind, int Weight)[] Mix =
    [
        (RequestKind.Chat, 2), (RequestKind.ChatStream, 2), (RequestKind.Generate, 2),
        (RequestKind.Embeddings, 1), (RequestKind.WebSocket, 1), (RequestKind.Grpc, 2),
    ];

    public static async Task<bool> RunAsync(ChaosDaemon daemon, ChaosClients clients, ChaosOptions options)
    {
        var faulted = await FirstChoiceAsync(clients.Http).ConfigureAwait(false);
        // Paced so that the requests spread over the cycles (a phase, then about a second to recover).
        var estimated = TimeSpan.FromTicks((options.PhaseLength + TimeSpan.FromSeconds(1)).Ticks * Phases.Length * options.Cycles);
        var rate = options.Requests / estimated.TotalSeconds;
        Console.WriteLine(FormattableString.Invariant(
            $"{faulted} (where a normal request goes first) cycles through {string.Join(" → ", Phases.Select(p => p.Name))}, {options.PhaseLength.TotalSeconds:0.#} s each, {options.Cycles} cycle(s)"));
        Console.WriteLine(FormattableString.Invariant(
            $"load: {options.Requests} requests or more, until the cycles end (chat, streamed chat, generate, embeddings, WebSocket, gRPC; four priorities) at {rate:0} a second, at most {options.Concurrency} at once, each with a {options.Deadline.TotalSeconds:0} s deadline"));

        var byPriority = new Tally();
        var byKind = new Tally();
        var errorsBefore = daemon.ErrorLines;
        var clock = Stopwatch.StartNew();
        var switcher = CycleFaultsAsync(clients.Http, faulted, options);
        using var loadOver = new CancellationTokenSource();
        var modes = SampleModesAsync(clients.Http, loadOver.Token);
        await RunLoadAsync(clients, options, rate, switcher, byPriority, byKind).ConfigureAwait(false);
        var elapsed = clock.Elapsed;
        await loadOver.CancelAsync().ConfigureAwait(false);
        var (phases, switchProblem) = await switcher.ConfigureAwait(false);
        var modesSeen = await modes.ConfigureAwait(false);

        var lost = byPriority.Count(Verdict.Lost);
        var serverErrors = byPriority.Count(Verdict.ServerError);
        Console.WriteLine(FormattableString.Invariant(
            $"{byPriority.Total} requests in {elapsed.TotalSeconds:0.0} s ({byPriority.Total / elapsed.TotalSeconds:0} a second): {byPriority.Count(Verdict.Served)} served, {byPriority.Count(Verdict.DocumentedError)} documented errors, {lost} lost, {serverErrors} server errors"));
        Console.WriteLine("  documented errors: " + byPriority.Breakdown(Verdict.DocumentedError));
        var samples = modesSeen.Values.Sum();
        Console.WriteLine("  mode in effect while it ran (Auto, the default): " + string.Join(", ", modesSeen.OrderByDescending(m => m.Value)
            .Select(m => FormattableString.Invariant($"{m.Key} {100.0 * m.Value / Math.Max(1, samples):0} %"))));
        foreach (var phase in phases)
        {
            Console.WriteLine(FormattableString.Invariant(
                $"  fault {phase.Name,-30} {faulted} finished {phase.Requests,4} requests, {phase.Failures,3} of them (or of those it held) failed; back in service {phase.Recovery.TotalSeconds:0.0} s later"));
        }

        Console.WriteLine("  time to the end of each answer, p50 / p99 / max:");
        foreach (var kind in Enum.GetValues<RequestKind>())
        {
            Console.WriteLine($"    {kind,-11} {byKind.Latency(kind.ToString())}");
        }

        for (var priority = 3; priority >= 0; priority--)
        {
            var name = ChaosRequest.PriorityNames[priority];
            Console.WriteLine($"    {name,-11} {byPriority.Latency(name)}");
        }

        foreach (var example in byPriority.Examples)
        {
            Console.WriteLine("  ! " + example);
        }

        // Every slot must come back and every queue empty.
        var (settled, settleTime, states) = await WaitForRestAsync(clients.Http, TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        Console.WriteLine(FormattableString.Invariant(
            $"after the load: {(settled ? "every backend 0 in flight and 0 queued" : "NOT at rest")} ({settleTime.TotalSeconds:0.0} s after the last answer): {string.Join(", ", states.Select(s => $"{s.Id} {s.Health} {s.InFlight}/{s.Queued}"))} (in flight/queued)"));
        var errorLines = daemon.ErrorLines - errorsBefore;
        Console.WriteLine($"daemon: {(daemon.HasExited ? "EXITED" : "running")}, {errorLines} error lines in its log");
        foreach (var line in daemon.ErrorSamples().Skip(errorsBefore))
        {
            Console.WriteLine("  log: " + line);
        }
        if (switchProblem is not null) Console.WriteLine("  ! switching faults: " + switchProblem);
        var unmet = phases.Where(p => p.Requests + p.Failures == 0).Select(p => p.Name).ToList();
        if (unmet.Count > 0) Console.WriteLine("  ! faults no request met: " + string.Join(", ", unmet));

        return lost == 0 && serverErrors == 0 && settled && !daemon.HasExited && switchProblem is null
            && phases.Count >= Phases.Length * options.Cycles && unmet.Count == 0;
    }

    /// <summary>
    /// The mode in effect and why (GET /efficiency), sampled every 250 ms until cancelled: Auto
    /// moves with the simulated laptop's heat and battery, and a mode that leaves out devices
    /// answers more requests with excluded_by_mode.
    /// </summary>
    private static async Task<Dictionary<string, int>> SampleModesAsync(HttpClient http, CancellationToken loadOver)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        while (!loadOver.IsCancellationRequested)
        {
            try
            {
                using var document = JsonDocument.Parse(await http.GetStringAsync(new Uri("/efficiency", UriKind.Relative), loadOver).ConfigureAwait(false));
                var mode = document.RootElement.GetProperty("effective_mode").GetString() + " (" + document.RootElement.GetProperty("reason").GetString() + ")";
                seen[mode] = seen.GetValueOrDefault(mode) + 1;
                await Task.Delay(250, loadOver).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return seen;
    }

    /// <summary>Where a normal request for the model goes now (GET /explain): the backend whose faults hurt most.</summary>
    private static async Task<string> FirstChoiceAsync(HttpClient http)
    {
        using var document = JsonDocument.Parse(await http.GetStringAsync(new Uri("/explain?model=" + ChaosClients.Model, UriKind.Relative)).ConfigureAwait(false));
        return document.RootElement.GetProperty("backend").GetString()!;
    }

    /// <summary>Requests at <paramref name="rate"/> until at least as many as asked for have gone out and the fault cycles are over.</summary>
    private static async Task RunLoadAsync(ChaosClients clients, ChaosOptions options, double rate, Task cycles, Tally byPriority, Tally byKind)
    {
        var random = new Random(options.Seed);
        var weights = Mix.Sum(m => m.Weight);
        using var slots = new SemaphoreSlim(options.Concurrency);
        var running = new List<Task>();
        var clock = Stopwatch.StartNew();
        var issued = 0;
        for (var number = 0; issued < options.Requests || !cycles.IsCompleted; number++)
        {
            var pick = random.Next(weights);
            var kind = Mix.First(m => (pick -= m.Weight) < 0).Kind;
            var request = new ChaosRequest(number, kind, random.Next(4), random.Next(4, 41), random.Next(2) == 0, options.Deadline);
            issued += kind == RequestKind.WebSocket ? 2 : 1;

            // Open arrivals at the rate, never more than the concurrency limit in flight.
            var due = TimeSpan.FromSeconds(number / rate);
            // Read the clock once: read twice, the second reading can pass the due time the first
            // was short of, and a negative delay throws.
            var wait = due - clock.Elapsed;
            if (wait > TimeSpan.Zero) await Task.Delay(wait).ConfigureAwait(false);
            await slots.WaitAsync().ConfigureAwait(false);
            running.Add(Task.Run(async () =>
            {
                var started = Stopwatch.GetTimestamp();
                try
                {
                    var outcomes = await clients.SendAsync(request).ConfigureAwait(false);
                    var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                    foreach (var outcome in outcomes)
                    {
                        byPriority.Add(outcome, request.PriorityName, ms, $"{request.Kind} #{request.Number}");
                        byKind.Add(outcome, request.Kind.ToString(), ms);
                    }
                }
                finally
                {
                    slots.Release();
                }
            }));
        }

        await Task.WhenAll(running).ConfigureAwait(false);
    }

    /// <summary>
    /// Each cycle: for every fault, wait until the device is back in service, switch the fault on
    /// for a phase, switch it off. Returns what each phase did, and what went wrong switching.
    /// </summary>
    private static async Task<(List<PhaseResult> Phases, string? Problem)> CycleFaultsAsync(HttpClient http, string backend, ChaosOptions options)
    {
        var results = new List<PhaseResult>();
        try
        {
            for (var cycle = 0; cycle < options.Cycles; cycle++)
            {
                foreach (var (name, faults) in Phases)
                {
                    var recovery = await WaitUntilInServiceAsync(http, backend).ConfigureAwait(false);
                    if (results.Count > 0) results[^1] = results[^1] with { Recovery = recovery };
                    var before = await CountersAsync(http, backend).ConfigureAwait(false);
                    await SetFaultsAsync(http, backend, faults).ConfigureAwait(false);
                    // The mixed load goes where routing sends it, which may spare the faulted device
                    // for a short phase; one request aimed at it makes sure every fault meets one.
                    var aimed = SendAimedAsync(http, backend);
                    await Task.Delay(options.PhaseLength).ConfigureAwait(false);
                    var during = await CountersAsync(http, backend).ConfigureAwait(false);
                    await SetFaultsAsync(http, backend, "null").ConfigureAwait(false);
                    // Requests caught by a hang fail at their first-byte timeout, after the phase.
                    await Task.Delay(TimeSpan.FromSeconds(2.5)).ConfigureAwait(false);
                    await aimed.ConfigureAwait(false);
                    var after = await CountersAsync(http, backend).ConfigureAwait(false);
                    results.Add(new PhaseResult(name, during.Requests - before.Requests, after.Failures - before.Failures, TimeSpan.Zero));
                }
            }

            results[^1] = results[^1] with { Recovery = await WaitUntilInServiceAsync(http, backend).ConfigureAwait(false) };
        }
        catch (Exception e) when (e is HttpRequestException or InvalidOperationException or TimeoutException)
        {
            return (results, e.Message);
        }

        return (results, null);
    }

    private static async Task<TimeSpan> WaitUntilInServiceAsync(HttpClient http, string backend)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            using var document = JsonDocument.Parse(await http.GetStringAsync(new Uri("/backends", UriKind.Relative)).ConfigureAwait(false));
            var health = document.RootElement.GetProperty("backends").EnumerateArray()
                .First(b => b.GetProperty("id").GetString() == backend).GetProperty("health").GetString();
            if (health == "healthy") return clock.Elapsed;
            if (clock.Elapsed > RecoveryLimit) throw new TimeoutException($"{backend} was still {health} {RecoveryLimit.TotalSeconds:0} s after its fault ended");
            await Task.Delay(50).ConfigureAwait(false);
        }
    }

    private static async Task<(long Requests, long Failures)> CountersAsync(HttpClient http, string backend)
    {
        using var document = JsonDocument.Parse(await http.GetStringAsync(new Uri("/backends", UriKind.Relative)).ConfigureAwait(false));
        var metrics = document.RootElement.GetProperty("backends").EnumerateArray()
            .First(b => b.GetProperty("id").GetString() == backend).GetProperty("metrics");
        return (metrics.GetProperty("requests_total").GetInt64(), metrics.GetProperty("failures_total").GetInt64());
    }

    /// <summary>A short streamed chat for <paramref name="backend"/> alone; how it ends is the device's counters' business.</summary>
    private static async Task SendAimedAsync(HttpClient http, string backend)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/v1/chat/completions", UriKind.Relative))
        {
            Content = new StringContent("{\"model\":\"" + ChaosClients.Model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":8,\"stream\":true}", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Target-Backend", backend);
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            using var response = await http.SendAsync(request, limit.Token).ConfigureAwait(false);
            await response.Content.ReadAsStringAsync(limit.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
        {
            // A fault may well end it so (a refused or dropped stream): the phase counts it either way.
        }
    }

    public static async Task SetFaultsAsync(HttpClient http, string backend, string faults)
    {
        using var content = new StringContent("{\"faults\":{\"" + backend + "\":" + faults + "}}", Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(new Uri("/simulation", UriKind.Relative), content).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST /simulation {faults}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync().ConfigureAwait(false)}");
        }
    }

    /// <summary>Polls /backends until nothing is in flight or queued anywhere.</summary>
    public static async Task<(bool Settled, TimeSpan After, List<BackendState> States)> WaitForRestAsync(HttpClient http, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var states = await ChaosDaemon.BackendsAsync(http).ConfigureAwait(false);
            if (states.All(s => s.InFlight == 0 && s.Queued == 0)) return (true, clock.Elapsed, states);
            if (clock.Elapsed > limit) return (false, clock.Elapsed, states);
            await Task.Delay(50).ConfigureAwait(false);
        }
    }
}

/// <summary>How big a run is: <c>--short</c> for CI, the issue's sizes otherwise.</summary>
internal sealed record ChaosOptions
{
    public bool Short { get; init; }
    public int Requests { get; init; } = 10_000;
    public int Concurrency { get; init; } = 64;
    public TimeSpan PhaseLength { get; init; } = TimeSpan.FromSeconds(4);
    public int Cycles { get; init; } = 4;
    public TimeSpan Deadline { get; init; } = TimeSpan.FromSeconds(30);
    public int NeverReadingClients { get; init; } = 200;
    public int SigtermClients { get; init; } = 120;
    public double TimeScale { get; init; } = 0.02;
    public int Seed { get; init; } = 19;
    /// <summary>Runs only the checks whose name starts with this (backend, clients, bad, SIGTERM).</summary>
    public string? Only { get; init; }

    public static ChaosOptions Parse(string[] args)
    {
        var options = args.Contains("--short")
            ? new ChaosOptions { Short = true, Requests = 500, Concurrency = 32, PhaseLength = TimeSpan.FromSeconds(2), Cycles = 1, SigtermClients = 60 }
            : new ChaosOptions();
        for (var i = 0; i < args.Length - 1; i++)
        {
            switch (args[i])
            {
                case "--requests": options = options with { Requests = int.Parse(args[i + 1], CultureInfo.InvariantCulture) }; break;
                case "--concurrency": options = options with { Concurrency = int.Parse(args[i + 1], CultureInfo.InvariantCulture) }; break;
                case "--seed": options = options with { Seed = int.Parse(args[i + 1], CultureInfo.InvariantCulture) }; break;
                case "--only": options = options with { Only = args[i + 1] }; break;
            }
        }

        return options;
    }
}
