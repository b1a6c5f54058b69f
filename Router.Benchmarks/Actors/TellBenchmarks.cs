using Akka.Actor;
using BenchmarkDotNet.Attributes;
using Router.Actors.Backends;
using Router.Actors.Config;

namespace Router.Benchmarks.Actors;

/// <summary>One sender thread telling a batch to one actor and waiting until it was processed; per message.</summary>
[MemoryDiagnoser]
public class TellBenchmarks
{
    private const int Batch = 10_000;

    private ActorSystem _system = null!;
    private IActorRef _sink = null!;
    private readonly Counter _counter = new();

    [Params("default", "backend-priority")]
    public string Mailbox { get; set; } = "default";

    [GlobalSetup]
    public void Setup()
    {
        _system = ActorSystem.Create("bench", ActorSystemConfig.Defaults);
        Props props = Props.Create(() => new CountingSink(_counter));
        if (Mailbox == "backend-priority")
        {
            props = props.WithMailbox(BackendMailbox.ConfigPath);
        }

        _sink = _system.ActorOf(props, "sink");
    }

    [GlobalCleanup]
    public void Cleanup() => _system.Terminate().Wait();

    [Benchmark(OperationsPerInvoke = Batch)]
    public void Tell()
    {
        _counter.Reset(Batch);
        IActorRef sink = _sink;
        object message = Mailbox == "backend-priority" ? PriorityPing.ByLevel[2] : Ping.Instance;
        for (int i = 0; i < Batch; i++)
        {
            sink.Tell(message, ActorRefs.NoSender);
        }

        _counter.Wait(Timeout.InfiniteTimeSpan);
    }
}

/// <summary>Ask round trip to an echo actor, awaited.</summary>
[MemoryDiagnoser]
public class AskBenchmarks
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(5);
    private ActorSystem _system = null!;
    private IActorRef _echo = null!;

    [GlobalSetup]
    public void Setup()
    {
        _system = ActorSystem.Create("bench", ActorSystemConfig.Defaults);
        _echo = _system.ActorOf(Props.Create<Echo>(), "echo");
    }

    [GlobalCleanup]
    public void Cleanup() => _system.Terminate().Wait();

    [Benchmark]
    public Task Ask() => _echo.Ask<Ping>(Ping.Instance, AskTimeout);
}
