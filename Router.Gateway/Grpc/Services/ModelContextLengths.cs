using System.Collections.Concurrent;
using Router.Actors.Inference;
using Router.Actors.Routing;

namespace Router.Gateway.Grpc.Services;

/// <summary>
/// The <c>max_context</c> of each backend for ListBackends: the longest context among the models
/// it holds, as the backend reports each one (<see cref="Router.Actors.Backends.IBackendClient.GetContextLengthAsync"/>).
/// A model's answer is asked for once and kept; a backend that cannot say (down, too slow, or one
/// that does not report it) is asked again after <see cref="RetryAfter"/>, and reads 0 meanwhile.
/// </summary>
internal sealed class ModelContextLengths(IRouterAdmin admin, TimeProvider timeProvider)
{
    /// <summary>How long one lookup may hold up ListBackends.</summary>
    public static readonly TimeSpan LookupTimeout = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<(string Backend, string Model), Known> _known = new();

    /// <summary>The longest context among <paramref name="backend"/>'s models, 0 when none is known.</summary>
    public async Task<int> MaxContextAsync(BackendSnapshot backend, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(backend);
        if (backend.Models.IsEmpty || admin.GetClient(backend.Id) is not { } client)
        {
            return 0;
        }

        var now = timeProvider.GetUtcNow();
        var lookups = new List<Task<int>>();
        var max = 0;
        foreach (var model in backend.Models)
        {
            if (_known.TryGetValue((backend.Id, model), out var known) && (known.Length > 0 || now < known.AskAgainAt))
            {
                max = Math.Max(max, known.Length);
            }
            else
            {
                lookups.Add(LookUpAsync(client, backend.Id, model, cancellationToken));
            }
        }

        foreach (var length in await Task.WhenAll(lookups).ConfigureAwait(false))
        {
            max = Math.Max(max, length);
        }

        return max;
    }

    private async Task<int> LookUpAsync(Router.Actors.Backends.IBackendClient client, string backendId, string model, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(LookupTimeout);
        int length;
        try
        {
            var result = await client.GetContextLengthAsync(model, timeout.Token).ConfigureAwait(false);
            length = result.IsOk ? result.Value : 0;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            length = 0;
        }

        _known[(backendId, model)] = new Known(length, timeProvider.GetUtcNow() + RetryAfter);
        return length;
    }

    private readonly record struct Known(int Length, DateTimeOffset AskAgainAt);
}
