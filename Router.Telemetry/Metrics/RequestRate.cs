using System.Collections.Concurrent;
using System.Diagnostics;

namespace Router.Telemetry.Metrics;

/// <summary>
/// Requests each backend finished in the last minute (any outcome), from the requests the router
/// sees finish. A ring of one-second buckets per backend: a count is exact to the second, costs
/// no allocation per request, and a backend with no traffic reads 0 once a minute has passed.
/// </summary>
public sealed class RequestRate(TimeProvider timeProvider)
{
    private const int Buckets = 60;

    private readonly ConcurrentDictionary<string, Window> _windows = new(StringComparer.Ordinal);

    /// <summary>Counts one finished request on <paramref name="backendId"/>, now.</summary>
    public void Record(string backendId)
    {
        ArgumentNullException.ThrowIfNull(backendId);
        _windows.GetOrAdd(backendId, static _ => new Window()).Add(Second());
    }

    /// <summary>Requests <paramref name="backendId"/> finished over the last 60 seconds, this one included.</summary>
    public int PerMinute(string backendId) =>
        _windows.TryGetValue(backendId, out var window) ? window.Sum(Second()) : 0;

    private long Second() => timeProvider.GetUtcNow().ToUnixTimeSeconds();

    private sealed class Window
    {
        private readonly Lock _lock = new();
        private readonly long[] _seconds = new long[Buckets];
        private readonly int[] _counts = new int[Buckets];

        public void Add(long second)
        {
            var slot = (int)(second % Buckets);
            lock (_lock)
            {
                if (_seconds[slot] != second)
                {
                    // The slot last counted a second a minute (or more) ago: start it afresh.
                    _seconds[slot] = second;
                    _counts[slot] = 0;
                }

                _counts[slot]++;
                AssertInvariants(second);
            }
        }

        public int Sum(long now)
        {
            var total = 0;
            lock (_lock)
            {
                for (var slot = 0; slot < Buckets; slot++)
                {
                    if (now - _seconds[slot] < Buckets)
                    {
                        total += _counts[slot];
                    }
                }
            }

            return total;
        }

        /// <summary>Each slot holds the count of one second that maps to it, never of a later one.</summary>
        [Conditional("DEBUG")]
        private void AssertInvariants(long now)
        {
            Debug.Assert(_lock.IsHeldByCurrentThread);
            for (var slot = 0; slot < Buckets; slot++)
            {
                Debug.Assert(_counts[slot] == 0 || _seconds[slot] % Buckets == slot, "a count sits in the wrong slot");
                Debug.Assert(_seconds[slot] <= now, "a slot counts a second still to come");
            }
        }
    }
}
