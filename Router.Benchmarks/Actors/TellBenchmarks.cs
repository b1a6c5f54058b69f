using BenchmarkDotNet.Attributes;
using Router.Actors.Routing;
using Router.Actors.Runtime;

namespace Router.Benchmarks.Actors;

/// <summary>One sender thread telling a batch to one actor and waiting until it was processed; per message.</summary>
[MemoryDiagnoser]
public class TellBenchmarks
{
    private const int Batch = 10_000;

    private ActorSystem _system = null!;
    private IActorRef _sink = null!;
    private readonly Counter _counter = new();

    [Params("fifo", "priority")]
    public string Mailbox { get; set; } = "fifo";

    [GlobalSetup]
    public void Setup()
    {
        _system = ActorSystem.Create("bench");
        Props props = Props.Create(() => new CountingSink(_counter));
        if (Mailbox == "priority")
        {
            props = props.WithMailbox(new PriorityMailboxOptions());
        }

        _sink = _system.ActorOf(props, "sink");
    }

    [GlobalCleanup]
    public void Cleanup() => _system.TerminateAsync().AsTask().Wait();

    [Benchmark(OperationsPerInvoke = Batch)]
    public void Tell()
    {
        _counter.Reset(Batch);
        IActorRef sink = _sink;
        object message = Mailbox == "priority" ? PriorityPing.ByLane[2] : Ping.Instance;
        for (int i = 0; i < Batch; i++)
        {
            sink.Tell(message);
        }

        _counter.Wait(Timeout.InfiniteTimeSpan);
    }
}

/// <summary>Ask round trip to an echo actor, awaited.</summary>
[MemoryDiagnoser]
public class AskBenchmarks
{
    private ActorSystem _system = null!;
    private IActorRef _echo = null!;

    [GlobalSetup]
    public void Setup()
    {
        _system = ActorSystem.Create("bench");
        _echo = _system.ActorOf(Props.Create<Echo>(), "echo");
    }

    [GlobalCleanup]
    public void Cleanup() => _system.TerminateAsync().AsTask().Wait();

    [Benchmark]
    public Task Ask() => _echo.Ask<Ping>(Ping.Instance);
}

/// <summary>Queue storage alone, one thread: enqueue then dequeue a batch, FIFO against the four-lane priority queue.</summary>
[MemoryDiagnoser]
public class MessageQueueBenchmarks
{
    private const int Batch = 1_000;

    private Router.Actors.Runtime.Dispatch.MessageQueue _fifo = null!;
    private Router.Actors.Runtime.Dispatch.MessageQueue _priority = null!;

    [GlobalSetup]
    public void Setup()
    {
        _fifo = Router.Actors.Runtime.Dispatch.MessageQueue.Create(FifoMailboxOptions.Instance, TimeProvider.System);
        _priority = Router.Actors.Runtime.Dispatch.MessageQueue.Create(new PriorityMailboxOptions(), TimeProvider.System);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Batch)]
    public int Fifo() => Cycle(_fifo);

    [Benchmark(OperationsPerInvoke = Batch)]
    public int PriorityOneLane() => Cycle(_priority, mixed: false);

    [Benchmark(OperationsPerInvoke = Batch)]
    public int PriorityFourLanes() => Cycle(_priority, mixed: true);

    private static int Cycle(Router.Actors.Runtime.Dispatch.MessageQueue queue, bool mixed = false)
    {
        PriorityPing[] lanes = PriorityPing.ByLane;
        for (int i = 0; i < Batch; i++)
        {
            queue.TryEnqueue(mixed ? lanes[i & 3] : lanes[1], null, out _, out _);
        }

        int n = 0;
        while (queue.TryDequeue(out _))
        {
            n++;
        }

        return n;
    }
}
