using Microsoft.Extensions.Hosting;
using Router.Actors.Config;

namespace Router.Gateway.Hosting;

/// <summary>
/// The daemon's stop, as the surfaces see it. <see cref="Stopping"/> fires when the host begins to
/// stop (SIGTERM, Ctrl+C): no new work is taken from then on. The requests in flight may go on for
/// <see cref="ServerConfig.DrainTimeout"/>; then <see cref="Ending"/> fires and each surface ends
/// what remains in its own protocol, so every client sees a clean end and every slot is freed
/// before the actors stop.
/// </summary>
internal sealed class ShutdownDrain : IDisposable
{
    private readonly CancellationTokenSource _ending = new();
    private readonly CancellationTokenRegistration _onStopping;
    private ITimer? _deadline;

    public ShutdownDrain(IHostApplicationLifetime lifetime, RouterConfig config, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(lifetime);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(time);
        Stopping = lifetime.ApplicationStopping;
        Timeout = config.Server.DrainTimeout;
        _onStopping = Stopping.Register(() =>
            _deadline = time.CreateTimer(static state => ((CancellationTokenSource)state!).Cancel(), _ending, Timeout, System.Threading.Timeout.InfiniteTimeSpan));
    }

    /// <summary>How long requests in flight may go on after the stop began.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>Fires when the daemon begins to stop: refuse new work.</summary>
    public CancellationToken Stopping { get; }

    /// <summary>Fires <see cref="Timeout"/> after <see cref="Stopping"/>: end what is still in flight.</summary>
    public CancellationToken Ending => _ending.Token;

    public bool IsStopping => Stopping.IsCancellationRequested;

    public void Dispose()
    {
        _onStopping.Dispose();
        _deadline?.Dispose();
        _ending.Dispose();
    }
}
