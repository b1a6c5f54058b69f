using System.Collections.Immutable;

namespace Router.Actors.Routing;

/// <summary>
/// Everything the scorer needs to know about one request. Built by the selector from an
/// inference request (or from an explain call, which may name no model).
/// </summary>
/// <param name="Model">The model asked for, or null when the caller names none (explain).</param>
/// <param name="Hints">What the request says it needs.</param>
public sealed record RouteRequest(string? Model, RoutingHints Hints)
{
    /// <summary>Backends already tried for this request (fallback); never picked again.</summary>
    public ImmutableArray<string> ExcludedBackendIds { get; init; } = ImmutableArray<string>.Empty;

    /// <summary>
    /// Backend types (<c>ollama</c>, <c>openai</c>) that can serve this call; null means any.
    /// An Ollama-native call (<c>/api/*</c>) accepts only <c>ollama</c>.
    /// </summary>
    public ImmutableArray<string>? AcceptableTypes { get; init; }

    /// <summary>Expected answer length in tokens; null uses <see cref="ScoringOptions.DefaultExpectedTokens"/>.</summary>
    public int? ExpectedTokens { get; init; }

    /// <summary>An embedding produces no tokens: its busy time is the time to first token alone.</summary>
    public bool IsEmbedding { get; init; }
}
