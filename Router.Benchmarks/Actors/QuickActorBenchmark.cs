using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using Akka.Actor;
using Akka.Dispatch.MessageQueues;
using Akka.Streams;
using Akka.Streams.Dsl;
using Router.Actors.Backends;
using Router.Actors.Config;
using Router.Actors.Inference;

namespace Router.Benchmarks.Actors;

/// <summary>
/// A quick table of Akka.NET's headline figures as the router uses it (its own mailbox and stream
/// settings): tell throughput (one sender, one ping-pong pair, many pairs across every core), ask
/// round-trip latency, the backend priority mailbox against the default one, bytes allocated per
/// message, and what one token stream costs to materialize and per token. Each row is measured
/// after a warm-up; the best of a few runs is kept, because the machine may be shared.
/// </summary>
internal static class QuickActorBenchmark
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(5);

    // The steady path: the sender pauses while this many messages wait, so the queues stop growing
    // (a flood that outruns the actor allocates queue segments as the backlog grows).
    private const long SteadyBacklog = 4096;

    public static int Run(string[] args)
    {
        bool quick = args.Contains("--quick");
        int scale = quick ? 1 : 4;
        int repeats = quick ? 2 : 3;
        Console.WriteLine(FormattableString.Invariant($"Akka.NET {typeof(ActorSystem).Assembly.GetName().Version} as the router runs it, quick benchmark: {Environment.ProcessorCount} cores, .NET {Environment.Version}, server GC {System.Runtime.GCSettings.IsServerGC}"));
        Console.WriteLine();
        Console.WriteLine($"{"scenario",-58} {"result",16} {"alloc B/msg",12}");
        Console.WriteLine(new string('-', 88));

        Report("tell: 1 sender thread -> 1 actor (default mailbox)", Best(repeats, () => TellOneWay(1_000_000 * scale, senders: 1, priority: false)));
        Report("tell: 1 sender thread -> 1 actor (backend priority mailbox)", Best(repeats, () => TellOneWay(1_000_000 * scale, senders: 1, priority: true)));
        Report($"tell: {Environment.ProcessorCount} senders -> {Environment.ProcessorCount} actors (default)", Best(repeats, () => TellOneWay(1_000_000 * scale, senders: Environment.ProcessorCount, priority: false)));
        Report($"tell: 1 sender -> 1 actor, <= {SteadyBacklog} queued (default)", Best(repeats, () => TellOneWay(1_000_000 * scale, senders: 1, priority: false, maxQueued: SteadyBacklog)));
        Report($"tell: 1 sender -> 1 actor, <= {SteadyBacklog} queued (priority, 4 levels)", Best(repeats, () => TellOneWay(1_000_000 * scale, senders: 1, priority: true, maxQueued: SteadyBacklog)));
        Report("ping-pong: 1 pair", Best(repeats, () => PingPong(1_000_000 * scale, pairs: 1)));
        int many = Environment.ProcessorCount * 4;
        Report($"ping-pong: {many} pairs (all cores)", Best(repeats, () => PingPong(2_000_000 * scale, pairs: many)));
        AskLatency(quick ? 50_000 : 200_000);
        QueueCost("queue only, 1 thread: default (unbounded)", () => new UnboundedMessageQueue(), levels: 1);
        QueueCost("queue only, 1 thread: Akka's stable priority, 4 levels", () => new UnboundedStablePriorityMessageQueue(BackendMailbox.Level, 16), levels: 4);
        QueueCost("queue only, 1 thread: backend mailbox, 4 levels", () => new BackendMessageQueue(), levels: 4);
        StreamCost(quick ? 2_000 : 10_000);
        return 0;
    }

    private static Result TellOneWay(long messages, int senders, bool priority, long maxQueued = 0, int lanes = 4)
    {
        using var holder = new SystemHolder();
        var counter = new Counter();
        Props props = Props.Create(() => new CountingSink(counter));
        if (priority)
        {
            props = props.WithMailbox(BackendMailbox.ConfigPath);
        }

        var sinks = new IActorRef[senders];
        for (int i = 0; i < senders; i++)
        {
            sinks[i] = holder.System.ActorOf(props, "sink-" + i.ToString(CultureInfo.InvariantCulture));
        }

        long perSender = messages / senders;

        // Warm-up: JIT, queue segments, thread pool threads.
        // Messages go round-robin over the top `lanes` lanes: 1 = all high, 4 = every lane.
        SlotTicket[] messagesByLane = PriorityPing.ByLevel[^lanes..];
        Measure(counter, sinks, perSender / 10, priority, maxQueued, messagesByLane);
        return Measure(counter, sinks, perSender, priority, maxQueued, messagesByLane);

        static Result Measure(Counter counter, IActorRef[] sinks, long perSender, bool priority, long maxQueued, SlotTicket[] lanes)
        {
            counter.Reset(perSender * sinks.Length);
            using var start = new Barrier(sinks.Length + 1);
            var threads = new Thread[sinks.Length];
            for (int t = 0; t < sinks.Length; t++)
            {
                IActorRef sink = sinks[t];
                threads[t] = new Thread(() =>
                {
                    start.SignalAndWait();
                    if (maxQueued > 0)
                    {
                        long expected = perSender;
                        for (long i = 0; i < perSender; i++)
                        {
                            if ((i & 255) == 0)
                            {
                                var spinner = new SpinWait();
                                while (i - (expected - counter.Remaining) > maxQueued)
                                {
                                    spinner.SpinOnce();
                                }
                            }

                            sink.Tell(priority ? lanes[i % lanes.Length] : Ping.Instance, ActorRefs.NoSender);
                        }
                    }
                    else if (priority)
                    {
                        for (long i = 0; i < perSender; i++)
                        {
                            sink.Tell(lanes[i % lanes.Length], ActorRefs.NoSender);
                        }
                    }
                    else
                    {
                        for (long i = 0; i < perSender; i++)
                        {
                            sink.Tell(Ping.Instance, ActorRefs.NoSender);
                        }
                    }
                }) { IsBackground = true };
                threads[t].Start();
            }

            long allocated = GC.GetTotalAllocatedBytes(precise: true);
            start.SignalAndWait();
            var watch = Stopwatch.StartNew();
            if (!counter.Wait(RunTimeout))
            {
                throw new TimeoutException("The sinks did not receive every message.");
            }

            watch.Stop();
            allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
            long total = perSender * sinks.Length;
            return new Result(total / watch.Elapsed.TotalSeconds, (double)allocated / total);
        }
    }

    private static Result PingPong(long messages, int pairs)
    {
        using var holder = new SystemHolder();
        var counter = new Counter();
        var clients = new IActorRef[pairs];
        for (int i = 0; i < pairs; i++)
        {
            string id = i.ToString(CultureInfo.InvariantCulture);
            IActorRef echo = holder.System.ActorOf(Props.Create<Echo>(), "echo-" + id);
            clients[i] = holder.System.ActorOf(Props.Create(() => new PingClient(echo, counter)), "client-" + id);
        }

        // Each round trip is two tells; the counter sees one per round trip.
        long roundTripsPerPair = messages / 2 / pairs;
        Measure(counter, clients, roundTripsPerPair / 10);
        return Measure(counter, clients, roundTripsPerPair);

        static Result Measure(Counter counter, IActorRef[] clients, long roundTripsPerPair)
        {
            counter.Reset(roundTripsPerPair * clients.Length);
            long allocated = GC.GetTotalAllocatedBytes(precise: true);
            var watch = Stopwatch.StartNew();
            foreach (IActorRef client in clients)
            {
                client.Tell(new PingClient.Start(roundTripsPerPair, Window: 500), ActorRefs.NoSender);
            }

            if (!counter.Wait(RunTimeout))
            {
                throw new TimeoutException("The ping-pong did not finish.");
            }

            watch.Stop();
            allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
            long tells = roundTripsPerPair * clients.Length * 2;
            return new Result(tells / watch.Elapsed.TotalSeconds, (double)allocated / tells);
        }
    }

    private static void AskLatency(int asks)
    {
        using var holder = new SystemHolder();
        IActorRef echo = holder.System.ActorOf(Props.Create<Echo>(), "echo");
        long[] samples = new long[asks];
        RunAsks(echo, samples, asks / 10).GetAwaiter().GetResult();
        long allocated = GC.GetTotalAllocatedBytes(precise: true);
        RunAsks(echo, samples, asks).GetAwaiter().GetResult();
        allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        Array.Sort(samples);
        double ticksPerMicro = Stopwatch.Frequency / 1_000_000.0;
        string P(double q) => (samples[(int)Math.Min(samples.Length - 1, q * samples.Length)] / ticksPerMicro).ToString("0.00", CultureInfo.InvariantCulture);
        Console.WriteLine($"{"ask round trip (1 asker, awaited) p50 / p99 µs",-58} {P(0.50) + " / " + P(0.99),16} {((double)allocated / asks).ToString("0", CultureInfo.InvariantCulture) + " /ask",12}");

        static async Task RunAsks(IActorRef echo, long[] samples, int count)
        {
            await Task.Yield();
            for (int i = 0; i < count; i++)
            {
                long start = Stopwatch.GetTimestamp();
                await echo.Ask<Ping>(Ping.Instance, AskTimeout).ConfigureAwait(false);
                samples[i] = Stopwatch.GetTimestamp() - start;
            }
        }
    }

    // Enqueue then dequeue batches of 1,000 on one thread: the storage cost alone, no scheduling.
    private static void QueueCost(string scenario, Func<IMessageQueue> create, int levels)
    {
        IMessageQueue queue = create();
        var envelopes = PriorityPing.ByLevel[^levels..].Select(ticket => new Envelope(ticket, ActorRefs.NoSender)).ToArray();
        double best = double.MaxValue;
        for (int round = 0; round < 5; round++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int batch = 0; batch < 2_000; batch++)
            {
                for (int i = 0; i < 1_000; i++)
                {
                    queue.Enqueue(ActorRefs.Nobody, envelopes[i % envelopes.Length]);
                }

                while (queue.TryDequeue(out _))
                {
                }
            }

            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalNanoseconds / 2_000_000);
        }

        Console.WriteLine($"{scenario,-58} {best.ToString("0.0", CultureInfo.InvariantCulture) + " ns/msg",16}");
    }

    /// <summary>
    /// A token stream as the surfaces run one: a bounded channel (the backend's) as the Akka.Streams
    /// source, the client writer sink at the end. The cost of materializing and running a one-event
    /// stream, sequentially (p50/p99), and the time per token of a 256-token stream.
    /// </summary>
    private static void StreamCost(int streams)
    {
        using var holder = new SystemHolder();
        var materializer = TokenStreams.CreateMaterializer(holder.System);
        var writer = new DiscardingWriter();
        var one = new StreamEvent[] { new StreamCompleted(BackendUsage.None) };
        var tokens = Enumerable.Range(0, 255).Select(_ => (StreamEvent)new StreamChunk(new byte[] { (byte)'x' }, "x")).Append(new StreamCompleted(BackendUsage.None)).ToArray();
        long[] samples = new long[streams];
        Run(one, samples.Length / 10);
        long allocated = GC.GetTotalAllocatedBytes(precise: true);
        Run(one, samples.Length);
        allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        Array.Sort(samples);
        double ticksPerMicro = Stopwatch.Frequency / 1_000_000.0;
        string P(double q) => (samples[(int)Math.Min(samples.Length - 1, q * samples.Length)] / ticksPerMicro).ToString("0", CultureInfo.InvariantCulture);
        Console.WriteLine($"{"token stream: materialize + run 1 event, p50 / p99 µs",-58} {P(0.50) + " / " + P(0.99),16} {((double)allocated / streams).ToString("0", CultureInfo.InvariantCulture) + " /stream",12}");

        int long256 = Math.Max(100, streams / 20);
        Run(tokens, long256 / 10);
        long started = Stopwatch.GetTimestamp();
        Run(tokens, long256);
        double perStream = Stopwatch.GetElapsedTime(started).TotalMicroseconds / long256;
        double perToken = (perStream - (samples[samples.Length / 2] / ticksPerMicro)) / 255;
        Console.WriteLine($"{"token stream: 256 events, per stream / per added token µs",-58} {perStream.ToString("0", CultureInfo.InvariantCulture) + " / " + perToken.ToString("0.00", CultureInfo.InvariantCulture),16}");

        void Run(StreamEvent[] events, int count)
        {
            for (int i = 0; i < count; i++)
            {
                var channel = Channel.CreateBounded<StreamEvent>(new BoundedChannelOptions(events.Length) { SingleReader = true, SingleWriter = true });
                foreach (var item in events)
                {
                    channel.Writer.TryWrite(item);
                }

                channel.Writer.Complete();
                long start = Stopwatch.GetTimestamp();
                ChannelSource.FromReader(channel.Reader)
                    .RunWith(Sink.FromGraph(new StreamEventSink(writer, CancellationToken.None)), materializer)
                    .GetAwaiter().GetResult();
                if (count == samples.Length && events.Length == 1)
                {
                    samples[i] = Stopwatch.GetTimestamp() - start;
                }
            }
        }
    }

    /// <summary>A client that takes every event at once.</summary>
    private sealed class DiscardingWriter : IStreamEventWriter
    {
        public ValueTask<bool> WriteAsync(StreamEvent item, CancellationToken cancellationToken) => new(true);

        public ValueTask WriteTruncatedAsync(CancellationToken cancellationToken) => default;
    }

    private static Result Best(int repeats, Func<Result> run)
    {
        Result best = run();
        for (int i = 1; i < repeats; i++)
        {
            Result next = run();
            if (next.PerSecond > best.PerSecond)
            {
                best = next;
            }
        }

        return best;
    }

    private static void Report(string scenario, Result result) =>
        Console.WriteLine($"{scenario,-58} {(result.PerSecond / 1e6).ToString("0.00", CultureInfo.InvariantCulture) + " M msg/s",16} {result.BytesPerMessage.ToString("0.000", CultureInfo.InvariantCulture),12}");

    private readonly record struct Result(double PerSecond, double BytesPerMessage);

    private sealed class SystemHolder : IDisposable
    {
        public ActorSystem System { get; } = ActorSystem.Create("bench", Akka.Configuration.ConfigurationFactory.ParseString("akka.loglevel = WARNING").WithFallback(ActorSystemConfig.Defaults));

        public void Dispose() => System.Terminate().Wait(RunTimeout);
    }
}
