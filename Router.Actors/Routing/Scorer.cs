using System.Collections.Immutable;
using System.Diagnostics;

namespace Router.Actors.Routing;

/// <summary>
/// The routing decision as a pure function of the request, the backends' snapshots, the system
/// state and the options, so tables of cases can test it and simulations can replay it. It runs
/// once per request: candidate sets live in stack-allocated spans; the only allocations are the
/// decision itself (or the failure, whose message may take a few more).
/// </summary>
/// <remarks>
/// Pipeline:
/// <list type="number">
/// <item>Candidates: every backend, or only the explicit target (a backend id, else a hardware
/// kind). An unknown target fails with <see cref="RouteFailureKind.UnknownTarget"/>; a known one
/// that cannot serve fails with the reason, never silently rerouted. An explicit target overrides
/// the mode (the caller named the device) but not health, heat, the queue or the request's own
/// budgets.</item>
/// <item>Hard filters in <see cref="Filter"/> order. When a filter removes the last candidates,
/// the failure names that filter's reason.</item>
/// <item>Unknown health (no probe yet) is a last resort: such backends pass the filters but are
/// dropped when any Healthy or Degraded backend also passed them. At start-up, before the first
/// probes, requests still get served.</item>
/// <item>A cost per candidate (see <see cref="Cost"/>); lowest wins, ties broken by higher
/// <see cref="BackendSnapshot.ConfiguredPriority"/>, then by the shorter round trip (this
/// router's own backends before a fleet node's), then by id.</item>
/// </list>
/// </remarks>
public static partial class Scorer
{
    private const int StackThreshold = 32;

    public static RouteOutcome Route(RouteRequest request, IReadOnlyList<BackendSnapshot> backends, SystemState state, ScoringOptions options)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(backends);
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(options);

        int n = backends.Count;
        if (n == 0)
        {
            return new RouteFailure(RouteFailureKind.NoHealthyBackend, "no backend is configured");
        }

        var inputs = new Inputs(request, state, options);
        Span<int> current = n <= StackThreshold ? stackalloc int[n] : new int[n];
        Span<int> next = n <= StackThreshold ? stackalloc int[n] : new int[n];
        Span<Estimate> estimates = n <= StackThreshold ? stackalloc Estimate[n] : new Estimate[n];
        Span<double> costs = n <= StackThreshold ? stackalloc double[n] : new double[n];

        // 1. Candidates.
        int count;
        if (inputs.Target is { } target)
        {
            count = SelectTarget(target, backends, current, inputs.Request.Hints.LocalOnly);
            if (count == 0)
            {
                return UnknownTarget(target, backends);
            }
        }
        else
        {
            count = 0;
            for (int i = 0; i < n; i++)
            {
                if (!inputs.Request.Hints.LocalOnly || backends[i].Node is null)
                {
                    current[count++] = i;
                }
            }

            if (count == 0)
            {
                return new RouteFailure(RouteFailureKind.NoHealthyBackend,
                    "a fleet peer forwarded this request, but this node has no backend of its own to serve it", TimeSpan.FromSeconds(5));
            }
        }

        for (int j = 0; j < count; j++)
        {
            int i = current[j];
            estimates[i] = EstimateFor(backends[i], in inputs);
        }

        // 2. Hard filters, keeping the survivors in the other span so that a filter that removes
        // everyone can still explain itself from the candidates it saw.
        for (int f = 0; f < FilterCount; f++)
        {
            var filter = (Filter)f;
            if (filter == Filter.ModeCap && inputs.Target is not null)
            {
                continue;
            }

            int kept = 0;
            for (int j = 0; j < count; j++)
            {
                int i = current[j];
                if (Passes(filter, backends[i], in estimates[i], in inputs))
                {
                    next[kept++] = i;
                }
            }

            if (kept == 0)
            {
                return Fail(filter, current[..count], backends, estimates, in inputs);
            }

            Span<int> swap = current;
            current = next;
            next = swap;
            count = kept;
        }

        // 3. Unknown health is a last resort.
        count = DropUnknownIfAnyKnown(current[..count], backends);

        // 4. Cost, then order.
        Cost(current[..count], backends, estimates, costs, in inputs);
        Order(current[..count], backends, costs);

        return Decide(current[..count], backends, estimates, in inputs);
    }

    /// <summary>
    /// The backends <paramref name="target"/> names, as routing reads it: a backend id, else every
    /// backend of that hardware kind. None: <paramref name="unknown"/> says so, listing what is known.
    /// </summary>
    public static IReadOnlyList<BackendSnapshot> Targeted(string target, IReadOnlyList<BackendSnapshot> backends, out RouteFailure? unknown)
    {
        ArgumentNullException.ThrowIfNull(backends);
        Span<int> selected = backends.Count <= StackThreshold ? stackalloc int[backends.Count] : new int[backends.Count];
        int count = SelectTarget(target, backends, selected, localOnly: false);
        unknown = count == 0 ? UnknownTarget(target, backends) : null;
        var result = new BackendSnapshot[count];
        for (int j = 0; j < count; j++)
        {
            result[j] = backends[selected[j]];
        }

        return result;
    }

    /// <summary>
    /// A backend id (a fleet node's as <c>node/backend</c>), else the fleet's backends of that id on
    /// any node, else every backend of that hardware kind. A forwarded request
    /// (<paramref name="localOnly"/>) sees only this node's own.
    /// </summary>
    private static int SelectTarget(string target, IReadOnlyList<BackendSnapshot> backends, Span<int> into, bool localOnly)
    {
        for (int i = 0; i < backends.Count; i++)
        {
            if ((!localOnly || backends[i].Node is null) && string.Equals(backends[i].Id, target, StringComparison.OrdinalIgnoreCase))
            {
                into[0] = i;
                return 1;
            }
        }

        int count = 0;
        if (!localOnly)
        {
            for (int i = 0; i < backends.Count; i++)
            {
                if (backends[i].Node is { } node && IsNodeBackend(backends[i].Id, node, target))
                {
                    into[count++] = i;
                }
            }

            if (count > 0)
            {
                return count;
            }
        }

        for (int i = 0; i < backends.Count; i++)
        {
            if ((!localOnly || backends[i].Node is null) && string.Equals(backends[i].Hardware, target, StringComparison.OrdinalIgnoreCase))
            {
                into[count++] = i;
            }
        }

        return count;
    }

    /// <summary>Whether <paramref name="id"/> (<c>node/backend</c>) names <paramref name="backend"/> on <paramref name="node"/>.</summary>
    private static bool IsNodeBackend(string id, string node, string backend) =>
        id.Length == node.Length + 1 + backend.Length
        && id.AsSpan(node.Length + 1).Equals(backend, StringComparison.OrdinalIgnoreCase);

    private static int DropUnknownIfAnyKnown(Span<int> candidates, IReadOnlyList<BackendSnapshot> backends)
    {
        bool anyKnown = false;
        foreach (int i in candidates)
        {
            if (backends[i].Health is BackendHealth.Healthy or BackendHealth.Degraded)
            {
                anyKnown = true;
                break;
            }
        }

        if (!anyKnown)
        {
            return candidates.Length;
        }

        int kept = 0;
        foreach (int i in candidates)
        {
            if (backends[i].Health != BackendHealth.Unknown)
            {
                candidates[kept++] = i;
            }
        }

        return kept;
    }

    /// <summary>Insertion sort: candidate sets are a handful of backends.</summary>
    private static void Order(Span<int> candidates, IReadOnlyList<BackendSnapshot> backends, ReadOnlySpan<double> costs)
    {
        for (int j = 1; j < candidates.Length; j++)
        {
            int item = candidates[j];
            int k = j - 1;
            while (k >= 0 && Precedes(item, candidates[k], backends, costs))
            {
                candidates[k + 1] = candidates[k];
                k--;
            }

            candidates[k + 1] = item;
        }
    }

    private static bool Precedes(int a, int b, IReadOnlyList<BackendSnapshot> backends, ReadOnlySpan<double> costs)
    {
        if (costs[a] != costs[b])
        {
            return costs[a] < costs[b];
        }

        BackendSnapshot x = backends[a], y = backends[b];
        if (x.ConfiguredPriority != y.ConfiguredPriority)
        {
            return x.ConfiguredPriority > y.ConfiguredPriority;
        }

        // Fleet: of two equal devices, the nearer (this router's own first) saves the network.
        if (x.NetworkRoundTripMs != y.NetworkRoundTripMs)
        {
            return x.NetworkRoundTripMs < y.NetworkRoundTripMs;
        }

        return string.CompareOrdinal(x.Id, y.Id) < 0;
    }

    private static RoutingDecision Decide(ReadOnlySpan<int> ordered, IReadOnlyList<BackendSnapshot> backends, ReadOnlySpan<Estimate> estimates, in Inputs inputs)
    {
        Debug.Assert(!ordered.IsEmpty, "a decision needs at least one candidate");
        int chosen = ordered[0];

        ImmutableArray<string> alternatives = ImmutableArray<string>.Empty;
        ImmutableArray<RouteEstimate> alternativeEstimates = ImmutableArray<RouteEstimate>.Empty;
        if (ordered.Length > 1)
        {
            var ids = new string[ordered.Length - 1];
            var figures = new RouteEstimate[ordered.Length - 1];
            for (int j = 1; j < ordered.Length; j++)
            {
                int i = ordered[j];
                ids[j - 1] = backends[i].Id;
                figures[j - 1] = estimates[i].ToRouteEstimate(backends[i].PowerWatts);
            }

            alternatives = ImmutableArray.Create(ids);
            alternativeEstimates = ImmutableArray.Create(figures);
        }

        return new RoutingDecision(
            backends[chosen].Id,
            ReasonFor(ordered.Length, in inputs),
            alternatives,
            estimates[chosen].ToRouteEstimate(backends[chosen].PowerWatts),
            inputs.Mode)
        {
            AlternativeEstimates = alternativeEstimates,
            Attempted = inputs.Request.ExcludedBackendIds.IsDefault ? ImmutableArray<string>.Empty : inputs.Request.ExcludedBackendIds,
        };
    }

    /// <summary>
    /// The reason a user would give: a retry says fallback; a named device says explicit-target;
    /// a single survivor decided nothing, so only-candidate; then the hint that chose, else the mode.
    /// </summary>
    private static string ReasonFor(int candidates, in Inputs inputs)
    {
        RoutingHints hints = inputs.Request.Hints;
        if (!inputs.Request.ExcludedBackendIds.IsDefaultOrEmpty)
        {
            return RouteReasons.Fallback;
        }

        if (inputs.Target is not null)
        {
            return RouteReasons.ExplicitTarget;
        }

        if (candidates == 1)
        {
            return RouteReasons.OnlyCandidate;
        }

        if (hints.LatencyCritical)
        {
            return RouteReasons.LatencyCritical;
        }

        if (hints.PreferPowerEfficiency)
        {
            return RouteReasons.PowerEfficient;
        }

        return inputs.Mode switch
        {
            EfficiencyMode.Performance => RouteReasons.ModePerformance,
            EfficiencyMode.Efficiency => RouteReasons.ModeEfficiency,
            EfficiencyMode.Quiet => RouteReasons.ModeQuiet,
            EfficiencyMode.UltraEfficiency => RouteReasons.ModeUltraEfficiency,
            _ => RouteReasons.ModeBalanced,
        };
    }

    /// <summary>What every step reads, worked out once per request.</summary>
    private readonly struct Inputs
    {
        public Inputs(RouteRequest request, SystemState state, ScoringOptions options)
        {
            Request = request;
            State = state;
            Options = options;
            Target = string.IsNullOrWhiteSpace(request.Hints.Target) ? null : request.Hints.Target.Trim();
            Model = string.IsNullOrWhiteSpace(request.Model) ? null : request.Model;
            // Ollama treats "llama3" and "llama3:latest" as the same model.
            ModelWithLatestTag = Model is not null && !Model.Contains(':', StringComparison.Ordinal) ? Model + ":latest" : null;
            Priority = request.Hints.Priority is >= Priority.BestEffort and <= Priority.Critical ? request.Hints.Priority : Priority.Normal;
            Tokens = request.IsEmbedding ? 0 : Math.Max(0, request.ExpectedTokens ?? options.DefaultExpectedTokens);
            // Auto is resolved by the efficiency actor before routing; should an unresolved Auto
            // arrive, Balanced is the mode that surprises nobody.
            Mode = state.EffectiveMode == EfficiencyMode.Auto ? EfficiencyMode.Balanced : state.EffectiveMode;
            WaitBudgetMs = options.WaitBudget is { } waitBudget ? waitBudget.For(Priority).TotalMilliseconds : null;
        }

        public RouteRequest Request { get; }
        public SystemState State { get; }
        public ScoringOptions Options { get; }
        public string? Target { get; }
        public string? Model { get; }
        public string? ModelWithLatestTag { get; }
        public Priority Priority { get; }
        public int Tokens { get; }
        public EfficiencyMode Mode { get; }
        /// <summary>The longest expected queue wait the request's priority accepts before a candidate loses its place (<see cref="WithWaitBudget"/>).</summary>
        public double? WaitBudgetMs { get; }
    }
}
