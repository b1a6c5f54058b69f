using Akka.Actor;
using Router.Actors.Backends;
using Router.Actors.Routing;

namespace Router.Benchmarks.Actors;

/// <summary>The message the benchmarks send: one shared instance, so the runtime's own allocations are what is measured.</summary>
internal sealed class Ping
{
    public static readonly Ping Instance = new();
}

/// <summary>Admission tickets of each priority, for the backend mailbox: what it orders in production.</summary>
internal static class PriorityPing
{
    public static readonly SlotTicket[] ByLevel =
    [
        new(ActorRefs.Nobody, Priority.BestEffort, null, 0),
        new(ActorRefs.Nobody, Priority.Normal, null, 0),
        new(ActorRefs.Nobody, Priority.High, null, 0),
        new(ActorRefs.Nobody, Priority.Critical, null, 0),
    ];
}

/// <summary>Counts messages and signals once it has seen the expected number.</summary>
internal sealed class CountingSink : ReceiveActor
{
    private readonly Counter _counter;

    public CountingSink(Counter counter)
    {
        _counter = counter;
        ReceiveAny(_ => _counter.Hit());
    }
}

/// <summary>A countdown the sink hits; the benchmark thread waits on it.</summary>
internal sealed class Counter
{
    private readonly ManualResetEventSlim _done = new();
    private long _remaining;

    public void Reset(long expected)
    {
        _done.Reset();
        Volatile.Write(ref _remaining, expected);
    }

    // Called by one actor at a time per counter; Interlocked because several sinks may share one.
    public void Hit()
    {
        if (Interlocked.Decrement(ref _remaining) == 0)
        {
            _done.Set();
        }
    }

    public long Remaining => Volatile.Read(ref _remaining);

    public bool Wait(TimeSpan timeout) => _done.Wait(timeout);
}

/// <summary>Replies to every message with the same message.</summary>
internal sealed class Echo : ReceiveActor
{
    public Echo() => ReceiveAny(message => Sender.Tell(message, Self));
}

/// <summary>
/// One side of a ping-pong pair: on <see cref="Start"/> it sends a window of pings to its echo, and
/// sends one more for every reply until it has sent its quota; every reply hits the counter.
/// </summary>
internal sealed class PingClient : ReceiveActor
{
    private long _toSend;

    public PingClient(IActorRef echo, Counter counter)
    {
        Receive<Start>(start =>
        {
            _toSend = start.Messages;
            long window = Math.Min(start.Window, _toSend);
            for (long i = 0; i < window; i++)
            {
                echo.Tell(Ping.Instance, Self);
            }

            _toSend -= window;
        });
        Receive<Ping>(ping =>
        {
            counter.Hit();
            if (_toSend > 0)
            {
                _toSend--;
                echo.Tell(ping, Self);
            }
        });
    }

    internal sealed record Start(long Messages, int Window);
}
