using System.Collections.Concurrent;
using System.Diagnostics;

namespace Router.Actors.Runtime;

/// <summary>
/// Publish/subscribe by message type. An event reaches every subscriber of its runtime type, of
/// any base type and of any interface it implements, once per subscriber. Stopped subscribers are
/// removed when they stop. Subscriptions change under a lock; publishing reads a per-type cache of
/// resolved subscribers, rebuilt lazily after a change.
/// </summary>
public sealed class EventStream
{
    private readonly object _gate = new();
    private readonly Dictionary<Type, List<IActorRef>> _byChannel = [];
    private ConcurrentDictionary<Type, IActorRef[]> _resolved = new();

    public bool Subscribe<T>(IActorRef subscriber) => Subscribe(subscriber, typeof(T));

    /// <summary>Returns false when the subscriber already had this channel.</summary>
    public bool Subscribe(IActorRef subscriber, Type channel)
    {
        ArgumentNullException.ThrowIfNull(subscriber);
        ArgumentNullException.ThrowIfNull(channel);
        lock (_gate)
        {
            if (!_byChannel.TryGetValue(channel, out List<IActorRef>? subscribers))
            {
                subscribers = [];
                _byChannel.Add(channel, subscribers);
            }

            if (subscribers.Contains(subscriber))
            {
                return false;
            }

            subscribers.Add(subscriber);
            Invalidate();
            return true;
        }
    }

    /// <summary>Removes one channel, or every channel when <paramref name="channel"/> is null; false if nothing was removed.</summary>
    public bool Unsubscribe(IActorRef subscriber, Type? channel = null)
    {
        ArgumentNullException.ThrowIfNull(subscriber);
        lock (_gate)
        {
            bool removed = false;
            if (channel is not null)
            {
                removed = _byChannel.TryGetValue(channel, out List<IActorRef>? subscribers) && subscribers.Remove(subscriber);
            }
            else
            {
                foreach (List<IActorRef> subscribers in _byChannel.Values)
                {
                    removed |= subscribers.Remove(subscriber);
                }
            }

            if (removed)
            {
                Invalidate();
            }

            return removed;
        }
    }

    public void Publish(object evt)
    {
        ArgumentNullException.ThrowIfNull(evt);
        IActorRef[] subscribers = SubscribersOf(evt.GetType());
        for (int i = 0; i < subscribers.Length; i++)
        {
            subscribers[i].Tell(evt);
        }
    }

    internal bool HasSubscribers(Type type) => SubscribersOf(type).Length > 0;

    internal void UnsubscribeStopped(IActorRef subscriber)
    {
        lock (_gate)
        {
            if (_byChannel.Count > 0)
            {
                Unsubscribe(subscriber);
            }
        }
    }

    private IActorRef[] SubscribersOf(Type type)
    {
        ConcurrentDictionary<Type, IActorRef[]> resolved = Volatile.Read(ref _resolved);
        return resolved.TryGetValue(type, out IActorRef[]? subscribers)
            ? subscribers
            : resolved.GetOrAdd(type, static (t, stream) => stream.Resolve(t), this);
    }

    private IActorRef[] Resolve(Type type)
    {
        lock (_gate)
        {
            if (_byChannel.Count == 0)
            {
                return [];
            }

            var result = new List<IActorRef>();
            for (Type? t = type; t is not null; t = t.BaseType)
            {
                AddChannel(t, result);
            }

            foreach (Type contract in type.GetInterfaces())
            {
                AddChannel(contract, result);
            }

            return [.. result];
        }
    }

    private void AddChannel(Type channel, List<IActorRef> result)
    {
        if (_byChannel.TryGetValue(channel, out List<IActorRef>? subscribers))
        {
            foreach (IActorRef subscriber in subscribers)
            {
                if (!result.Contains(subscriber))
                {
                    result.Add(subscriber);
                }
            }
        }
    }

    // Under _gate. A fresh cache, so a Resolve racing with this change cannot store a stale entry
    // into the cache that readers use from now on.
    private void Invalidate()
    {
        Volatile.Write(ref _resolved, new ConcurrentDictionary<Type, IActorRef[]>());
        AssertInvariants();
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(Monitor.IsEntered(_gate), "Subscriptions change under the lock.");
        foreach (List<IActorRef> subscribers in _byChannel.Values)
        {
            for (int i = 0; i < subscribers.Count; i++)
            {
                Debug.Assert(subscribers.IndexOf(subscribers[i]) == i, "A subscriber appears once per channel.");
            }
        }
    }
}
