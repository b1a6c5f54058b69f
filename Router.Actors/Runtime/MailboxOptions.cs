using System.Collections.Immutable;

using Router.Actors.Routing;

namespace Router.Actors.Runtime;

/// <summary>Which mailbox an actor gets; see <see cref="FifoMailboxOptions"/> and <see cref="PriorityMailboxOptions"/>.</summary>
public abstract record MailboxOptions
{
    private protected MailboxOptions()
    {
    }
}

/// <summary>One unbounded first-in, first-out lane for user messages (the default).</summary>
public sealed record FifoMailboxOptions : MailboxOptions
{
    public static readonly FifoMailboxOptions Instance = new();
}

/// <summary>
/// Four lanes (critical, high, normal, best effort) chosen by <see cref="IPriorityMessage.Priority"/>,
/// first-in first-out within a lane, the highest non-empty lane first, with aging and optional bounds.
/// </summary>
public sealed record PriorityMailboxOptions : MailboxOptions
{
    /// <summary>Capacity per lane, indexed by <c>(int)Priority</c>; 0, a missing entry or default = unbounded.</summary>
    public ImmutableArray<int> LaneBounds { get; init; }

    /// <summary>
    /// A message that has waited this long is served as if it were one lane higher, again after each
    /// further interval, so best-effort work is never starved. <see cref="TimeSpan.Zero"/> or
    /// <see cref="Timeout.InfiniteTimeSpan"/> turns aging off.
    /// </summary>
    public TimeSpan AgingInterval { get; init; } = TimeSpan.FromSeconds(5);

    internal int BoundOf(Priority lane)
    {
        int index = (int)lane;
        return LaneBounds.IsDefault || index >= LaneBounds.Length ? 0 : LaneBounds[index];
    }

    internal void Validate()
    {
        if (!LaneBounds.IsDefault)
        {
            foreach (int bound in LaneBounds)
            {
                ArgumentOutOfRangeException.ThrowIfNegative(bound, nameof(LaneBounds));
            }
        }

        if (AgingInterval < TimeSpan.Zero && AgingInterval != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(AgingInterval), AgingInterval, "Aging interval must be positive, zero (off) or infinite (off).");
        }
    }
}

/// <summary>A message that chooses its lane in a priority mailbox; any other message goes to <see cref="Priority.Normal"/>.</summary>
public interface IPriorityMessage
{
    Priority Priority { get; }
}

/// <summary>
/// Sent back to the sender (when there is one) if a bounded lane is full; the message was not enqueued.
/// Without a sender the message goes to dead letters.
/// </summary>
public sealed record MailboxRejected(object Message, Priority Lane, int Bound);
