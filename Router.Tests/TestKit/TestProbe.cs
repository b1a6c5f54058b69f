using System.Collections.Concurrent;
using Router.Actors.Routing;
using Router.Actors.Runtime;
using Xunit.Sdk;

namespace Router.Tests.TestKit;

/// <summary>
/// An actor (under <c>/system</c>) that records what it receives, so a test can send as it, expect
/// messages with a timeout, reply, and watch other actors. Waiting blocks on a semaphore signalled
/// per message: no sleeping, no polling.
/// </summary>
public sealed class TestProbe
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);

    private static long s_next;

    private readonly ConcurrentQueue<Received> _received = new();
    private readonly SemaphoreSlim _available = new(0);
    private IActorRef? _lastSender;

    public TestProbe(ActorSystem system, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(system);
        name ??= "probe-" + Interlocked.Increment(ref s_next).ToString(global::System.Globalization.CultureInfo.InvariantCulture);
        Ref = system.SystemActorOf(Props.Create(() => new ProbeActor(this)), name);
        System = system;
    }

    public IActorRef Ref { get; }

    public ActorSystem System { get; }

    /// <summary>The sender of the message most recently taken by an Expect or Fish call.</summary>
    public IActorRef LastSender => _lastSender ?? throw new InvalidOperationException("The probe has not received anything yet.");

    /// <summary>Messages received and not yet taken.</summary>
    public int Pending => _available.CurrentCount;

    /// <summary>Waits for the next message; fails unless it is a <typeparamref name="T"/> matching <paramref name="predicate"/>.</summary>
    public T ExpectMsg<T>(TimeSpan? timeout = null, Func<T, bool>? predicate = null)
    {
        TimeSpan wait = timeout ?? DefaultTimeout;
        if (!_available.Wait(wait))
        {
            throw new XunitException($"{Ref.Path}: expected a {typeof(T).Name} within {wait.TotalMilliseconds} ms, got nothing.");
        }

        return Check(Take(), predicate);
    }

    public async Task<T> ExpectMsgAsync<T>(TimeSpan? timeout = null, Func<T, bool>? predicate = null)
    {
        TimeSpan wait = timeout ?? DefaultTimeout;
        if (!await _available.WaitAsync(wait).ConfigureAwait(false))
        {
            throw new XunitException($"{Ref.Path}: expected a {typeof(T).Name} within {wait.TotalMilliseconds} ms, got nothing.");
        }

        return Check(Take(), predicate);
    }

    /// <summary>Fails if any message arrives within <paramref name="duration"/>.</summary>
    public void ExpectNoMsg(TimeSpan duration)
    {
        if (_available.Wait(duration))
        {
            Received received = Take();
            throw new XunitException($"{Ref.Path}: expected no message for {duration.TotalMilliseconds} ms, got {Describe(received.Message)}.");
        }
    }

    /// <summary>Skips messages until one is a <typeparamref name="T"/> matching <paramref name="predicate"/>, within one overall timeout.</summary>
    public T FishForMessage<T>(Func<T, bool> predicate, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        TimeSpan wait = timeout ?? DefaultTimeout;
        long deadline = Environment.TickCount64 + (long)wait.TotalMilliseconds;
        while (true)
        {
            long left = deadline - Environment.TickCount64;
            if (left <= 0 || !_available.Wait(TimeSpan.FromMilliseconds(left)))
            {
                throw new XunitException($"{Ref.Path}: no {typeof(T).Name} matching the predicate within {wait.TotalMilliseconds} ms.");
            }

            Received received = Take();
            if (received.Message is T typed && predicate(typed))
            {
                return typed;
            }
        }
    }

    /// <summary>Takes the next <paramref name="count"/> messages, each of type <typeparamref name="T"/>.</summary>
    public IReadOnlyList<T> ReceiveN<T>(int count, TimeSpan? timeout = null)
    {
        var messages = new List<T>(count);
        for (int i = 0; i < count; i++)
        {
            messages.Add(ExpectMsg<T>(timeout));
        }

        return messages;
    }

    /// <summary>Replies to the sender of the last message taken, as this probe.</summary>
    public void Reply(object message) => LastSender.Tell(message, Ref);

    /// <summary>Tells <paramref name="target"/> with this probe as the sender.</summary>
    public void Send(IActorRef target, object message)
    {
        ArgumentNullException.ThrowIfNull(target);
        target.Tell(message, Ref);
    }

    /// <summary>Watches <paramref name="actor"/>; returns once the watch is registered.</summary>
    public void Watch(IActorRef actor) => Command(new WatchCommand(actor, watch: true));

    /// <summary>Stops watching <paramref name="actor"/>; returns once the watch is removed.</summary>
    public void Unwatch(IActorRef actor) => Command(new WatchCommand(actor, watch: false));

    private void Command(WatchCommand command)
    {
        Ref.Tell(command);
        if (!command.Done.Wait(DefaultTimeout))
        {
            throw new XunitException($"{Ref.Path}: the probe did not process a watch command within {DefaultTimeout.TotalMilliseconds} ms.");
        }
    }

    private Received Take()
    {
        if (!_received.TryDequeue(out Received received))
        {
            throw new InvalidOperationException("Signalled without a message.");
        }

        _lastSender = received.Sender;
        return received;
    }

    private T Check<T>(Received received, Func<T, bool>? predicate)
    {
        if (received.Message is not T typed)
        {
            throw new XunitException($"{Ref.Path}: expected a {typeof(T).Name}, got {Describe(received.Message)}.");
        }

        if (predicate is not null && !predicate(typed))
        {
            throw new XunitException($"{Ref.Path}: the {typeof(T).Name} received does not match the predicate: {typed}.");
        }

        return typed;
    }

    private static string Describe(object message) => $"{message.GetType().Name} ({message})";

    private void Enqueue(object message, IActorRef sender)
    {
        _received.Enqueue(new Received(message, sender));
        _available.Release();
    }

    private readonly record struct Received(object Message, IActorRef Sender);

    private sealed class WatchCommand(IActorRef actor, bool watch)
    {
        public IActorRef Actor { get; } = actor;

        public bool IsWatch { get; } = watch;

        public ManualResetEventSlim Done { get; } = new();
    }

    private sealed class ProbeActor : ReceiveActor
    {
        public ProbeActor(TestProbe probe)
        {
            Receive<WatchCommand>(command =>
            {
                if (command.IsWatch)
                {
                    Context.Watch(command.Actor);
                }
                else
                {
                    Context.Unwatch(command.Actor);
                }

                command.Done.Set();
            });
            ReceiveAny(message => probe.Enqueue(message, Sender));
        }
    }
}
