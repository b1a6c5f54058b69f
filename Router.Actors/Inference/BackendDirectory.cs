using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;

namespace Router.Actors.Inference;

/// <summary>
/// The backends the request path can call, by id: this router's own (fixed at start) and, while the
/// fleet runs, the other nodes' (<c>node/backend</c>), which come and go with their nodes. Read on
/// every attempt without a lock; only the fleet writes the remote part.
/// </summary>
internal sealed class BackendDirectory
{
    private readonly FrozenDictionary<string, BackendHandle> _local;
    private ImmutableDictionary<string, BackendHandle> _remote = ImmutableDictionary.Create<string, BackendHandle>(StringComparer.Ordinal);

    public BackendDirectory(FrozenDictionary<string, BackendHandle> local) => _local = local;

    public FrozenDictionary<string, BackendHandle> Local => _local;

    public ImmutableDictionary<string, BackendHandle> Remote => Volatile.Read(ref _remote);

    public bool TryGetValue(string id, [NotNullWhen(true)] out BackendHandle? handle) =>
        _local.TryGetValue(id, out handle) || Volatile.Read(ref _remote).TryGetValue(id, out handle);

    /// <summary>The fleet: replaces the remote backends (before it publishes their snapshots, after it withdraws them).</summary>
    public void SetRemote(ImmutableDictionary<string, BackendHandle> remote) => Volatile.Write(ref _remote, remote);
}
