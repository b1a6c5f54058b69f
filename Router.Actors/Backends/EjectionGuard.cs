using System.Diagnostics;

namespace Router.Actors.Backends;

/// <summary>
/// Keeps ejection from taking the router down (Envoy's panic threshold). The backend actors ask it
/// before they eject themselves for failing requests: an ejection is allowed while the ejected
/// share stays within the threshold and some other backend is still in service (not ejected,
/// not unhealthy). Past that, the failures are more likely the requests' own than every device's,
/// and the backend stays in service. Shared by the backend actors of one router; thread-safe.
/// </summary>
public sealed class EjectionGuard
{
    private readonly Lock _lock = new();
    private readonly HashSet<string> _ejected = new(StringComparer.Ordinal);
    private readonly HashSet<string> _unhealthy = new(StringComparer.Ordinal);
    private readonly int _backends;
    private readonly double _threshold;

    /// <param name="backends">How many backends the router has.</param>
    /// <param name="threshold">The largest share of them that may be ejected at once (0 to 1).</param>
    public EjectionGuard(int backends, double threshold)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(backends);
        ArgumentOutOfRangeException.ThrowIfNegative(threshold);
        _backends = backends;
        _threshold = threshold;
    }

    /// <summary>A guard that never refuses (a single backend under test, say).</summary>
    public static EjectionGuard Unlimited { get; } = new(int.MaxValue, 1);

    /// <summary>Asks to eject <paramref name="backendId"/>; true when it may (and it then counts as ejected).</summary>
    /// <param name="refusal">Why not, for the backend's status message, when false.</param>
    public bool TryEject(string backendId, out string? refusal)
    {
        lock (_lock)
        {
            if (_ejected.Contains(backendId))
            {
                refusal = null;
                return true;
            }

            var ejectedAfter = _ejected.Count + 1;
            var outOfServiceAfter = ejectedAfter + _unhealthy.Count(id => !_ejected.Contains(id) && id != backendId);
            if (outOfServiceAfter >= _backends)
            {
                refusal = "kept in service: it is the last backend that can serve";
                return false;
            }

            if (ejectedAfter > _threshold * _backends)
            {
                refusal = $"kept in service: {_ejected.Count} of {_backends} backends are ejected already (routing.panic-threshold {_threshold:P0})";
                return false;
            }

            _ejected.Add(backendId);
            AssertInvariants();
            refusal = null;
            return true;
        }
    }

    /// <summary>Reports a backend's health, so ejections count what else is out of service.</summary>
    public void Report(string backendId, Routing.BackendHealth health)
    {
        lock (_lock)
        {
            if (health != Routing.BackendHealth.Ejected)
            {
                _ejected.Remove(backendId);
            }

            if (health == Routing.BackendHealth.Unhealthy)
            {
                _unhealthy.Add(backendId);
            }
            else
            {
                _unhealthy.Remove(backendId);
            }

            AssertInvariants();
        }
    }

    [Conditional("DEBUG")]
    private void AssertInvariants() => Debug.Assert(_ejected.Count <= _backends, "more backends ejected than there are");
}
