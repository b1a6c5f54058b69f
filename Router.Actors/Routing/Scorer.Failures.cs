using System.Globalization;
using System.Text;

namespace Router.Actors.Routing;

/// <summary>Failure messages: off the fast path, so they may allocate to say exactly why.</summary>
public static partial class Scorer
{
    private static RouteFailure UnknownTarget(string target, IReadOnlyList<BackendSnapshot> backends)
    {
        var ids = new List<string>(backends.Count);
        var kinds = new List<string>(backends.Count);
        foreach (BackendSnapshot backend in backends)
        {
            ids.Add(backend.Id);
            if (backend.Hardware.Length > 0 && !kinds.Contains(backend.Hardware, StringComparer.OrdinalIgnoreCase))
            {
                kinds.Add(backend.Hardware);
            }
        }

        return new RouteFailure(
            RouteFailureKind.UnknownTarget,
            Invariant($"unknown target '{target}': known backends are {string.Join(", ", ids)}; hardware kinds are {string.Join(", ", kinds)}"));
    }

    private static RouteFailure Fail(Filter filter, ReadOnlySpan<int> candidates, IReadOnlyList<BackendSnapshot> backends, ReadOnlySpan<Estimate> estimates, in Inputs inputs)
    {
        RoutingHints hints = inputs.Request.Hints;
        string subject = SubjectOf(candidates, backends, in inputs);
        switch (filter)
        {
            case Filter.EnabledAndType:
                string needs = inputs.Request.AcceptableTypes is { IsDefault: false } types ? string.Join(" or ", types) : "";
                string typeMessage;
                if (inputs.Target is not null && candidates.Length == 1)
                {
                    BackendSnapshot b = backends[candidates[0]];
                    typeMessage = b.Enabled
                        ? Invariant($"backend '{b.Id}' is of type {b.Type}; this call needs {needs}")
                        : Invariant($"backend '{b.Id}' is disabled in the configuration");
                }
                else
                {
                    typeMessage = needs.Length > 0
                        ? Invariant($"no enabled backend of type {needs} can serve this call")
                        : "every backend is disabled in the configuration";
                }

                return new RouteFailure(RouteFailureKind.NoHealthyBackend, typeMessage);

            case Filter.Health:
                var health = new StringBuilder();
                foreach (int i in candidates)
                {
                    BackendSnapshot b = backends[i];
                    health.Append(health.Length == 0 ? "" : "; ")
                        .Append(b.Id).Append(" is ").Append(b.Health.ToString().ToLowerInvariant());
                    if (!string.IsNullOrEmpty(b.StatusMessage))
                    {
                        health.Append(" (").Append(b.StatusMessage).Append(')');
                    }
                }

                return new RouteFailure(RouteFailureKind.NoHealthyBackend, Invariant($"no healthy backend: {health}"), TimeSpan.FromSeconds(5));

            case Filter.Excluded:
                return new RouteFailure(
                    RouteFailureKind.NoHealthyBackend,
                    Invariant($"every candidate backend has already been tried: {string.Join(", ", inputs.Request.ExcludedBackendIds)}"),
                    TimeSpan.FromSeconds(5));

            case Filter.Model:
                return new RouteFailure(
                    RouteFailureKind.ModelNotAvailable,
                    inputs.Target is null
                        ? Invariant($"model '{inputs.Model}' is not available on any healthy backend")
                        : Invariant($"model '{inputs.Model}' is not available on {subject}"));

            case Filter.MaxPower:
                int lowest = ArgMin(candidates, backends, estimates, static (b, _) => b.PowerWatts);
                return new RouteFailure(
                    RouteFailureKind.PowerBudgetExceeded,
                    Invariant($"{subject} exceeds the power budget of {hints.MaxPowerWatts:0.#} W (lowest: {backends[lowest].Id} at {backends[lowest].PowerWatts:0.#} W)"));

            case Filter.MaxLatency:
                int fastest = ArgMin(candidates, backends, estimates, static (_, e) => e.LatencyMs);
                bool queued = estimates[fastest].WaitMs > 0;
                return new RouteFailure(
                    RouteFailureKind.LatencyBudgetExceeded,
                    Invariant($"{subject} exceeds the latency budget of {hints.MaxLatencyMs} ms (fastest: {backends[fastest].Id} at {estimates[fastest].LatencyMs:0} ms expected{(queued ? ", queue included" : "")})"),
                    queued ? RetryAfter(estimates[fastest].WaitMs) : null);

            case Filter.ModeCap:
                return new RouteFailure(
                    RouteFailureKind.ExcludedByMode,
                    inputs.Mode == EfficiencyMode.UltraEfficiency
                        ? Invariant($"ultra-efficiency mode serves only backends under {inputs.Options.UltraEfficiencyMaxWatts:0.#} W, and none of those can take this request")
                        : Invariant($"quiet mode avoids backends above {inputs.Options.QuietMaxWatts:0.#} W and hot devices, and no other backend can take this request"));

            case Filter.Heat:
                return new RouteFailure(
                    RouteFailureKind.TooHot,
                    Invariant($"{subject} is above its temperature limit; retry when it has cooled"),
                    TimeSpan.FromSeconds(30));

            case Filter.QueueFull:
                int soonest = ArgMin(candidates, backends, estimates, static (_, e) => e.ServiceMs);
                return new RouteFailure(
                    RouteFailureKind.QueueFull,
                    Invariant($"the queue for {PriorityName(inputs.Priority)} requests is full on {(inputs.Target is null ? "every candidate backend" : subject)}"),
                    RetryAfter(estimates[soonest].ServiceMs));

            default:
                throw new System.Diagnostics.UnreachableException();
        }
    }

    /// <summary>"every candidate" in general; the backend (or hardware kind) when the request named it.</summary>
    private static string SubjectOf(ReadOnlySpan<int> candidates, IReadOnlyList<BackendSnapshot> backends, in Inputs inputs)
    {
        if (inputs.Target is null)
        {
            return "every candidate backend";
        }

        return candidates.Length == 1
            ? Invariant($"backend '{backends[candidates[0]].Id}'")
            : Invariant($"every '{inputs.Target}' backend");
    }

    private static int ArgMin(ReadOnlySpan<int> candidates, IReadOnlyList<BackendSnapshot> backends, ReadOnlySpan<Estimate> estimates, Func<BackendSnapshot, Estimate, double> key)
    {
        int best = candidates[0];
        foreach (int i in candidates)
        {
            if (key(backends[i], estimates[i]) < key(backends[best], estimates[best]))
            {
                best = i;
            }
        }

        return best;
    }

    /// <summary>Whole seconds, at least one: what Retry-After can carry.</summary>
    private static TimeSpan RetryAfter(double ms) => TimeSpan.FromSeconds(Math.Max(1, Math.Ceiling(ms / 1000)));

    private static string PriorityName(Priority priority) => WireNames.ToWire(priority);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
