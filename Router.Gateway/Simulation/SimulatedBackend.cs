using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Router.Gateway.Simulation;

/// <summary>
/// A simulated Ollama server: a real HTTP server on loopback (Kestrel) speaking Ollama's native API and
/// its OpenAI-compatible <c>/v1</c> API, with a device profile (latency, speed, power, heat) and
/// injectable faults. Admin endpoints: <c>GET /sim/state</c>, <c>GET|POST /sim/faults</c>.
/// </summary>
public sealed partial class SimulatedBackend : IAsyncDisposable
{
    private readonly SemaphoreSlim _listenerGate = new(1, 1);
    private readonly SimulatorOptions _options;
    private readonly ThermalModel _thermal;
    private WebApplication? _app;
    // Cancelled when the current listener stops, so in-flight requests end at once instead of
    // holding the shutdown.
    private CancellationTokenSource _listenerStopping = new();
    private int _port;
    private int _activeRequests;
    private long _requestsServed;
    private long _tokensWritten;
    private long _connectionsAccepted;
    private int _listenerStarts;
    private int _blockedWriters;
    private TaskCompletionSource? _changed;
    private int _disposed;

    private SimulatedBackend(DeviceProfile profile, SimulatorOptions options)
    {
        Profile = profile;
        _options = options;
        _port = options.Port;
        _thermal = new ThermalModel(profile, options.TimeScale, options.TimeProvider);
    }

    /// <summary>Starts a simulated backend listening on 127.0.0.1 (port from the options, 0 for any).</summary>
    public static async Task<SimulatedBackend> StartAsync(DeviceProfile profile, SimulatorOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(profile);
        options ??= new SimulatorOptions();
        if (options.TimeScale < 0 || double.IsNaN(options.TimeScale))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.TimeScale, "TimeScale must be ≥ 0.");
        }

        var backend = new SimulatedBackend(profile, options);
        await backend.StartListenerAsync(cancellationToken).ConfigureAwait(false);
        return backend;
    }

    public DeviceProfile Profile { get; }

    public SimulatorFaults Faults { get; } = new();

    /// <summary>The base address, e.g. <c>http://127.0.0.1:41234/</c>. Stable across refuse/accept.</summary>
    public Uri Endpoint => new($"http://127.0.0.1:{_port}/");

    public int Port => _port;

    public double TimeScale => _options.TimeScale;

    /// <summary>API requests in progress (not counting <c>/sim/*</c>).</summary>
    public int ActiveRequests => Volatile.Read(ref _activeRequests);

    /// <summary>API requests answered to the end.</summary>
    public long RequestsServed => Interlocked.Read(ref _requestsServed);

    /// <summary>How many times the listener started: 1 after start, one more per <see cref="AcceptConnectionsAsync"/> after a refusal.</summary>
    public int ListenerStarts => Volatile.Read(ref _listenerStarts);

    /// <summary>TCP connections accepted so far (keep-alive reuses one for many requests).</summary>
    public long ConnectionsAccepted => Interlocked.Read(ref _connectionsAccepted);

    /// <summary>Tokens written to clients, over all requests.</summary>
    public long TokensWritten => Interlocked.Read(ref _tokensWritten);

    /// <summary>
    /// Whether some response is waiting for the client to take bytes (the server's send buffer is full):
    /// the visible end of backpressure.
    /// </summary>
    public bool IsWriteBlocked => Volatile.Read(ref _blockedWriters) > 0;

    /// <summary>The device's state now: temperature, power, energy, load.</summary>
    public SimulatedDeviceState GetState()
    {
        ThermalReading reading = _thermal.Read();
        return new SimulatedDeviceState(Profile.Name, Profile.Hardware, reading.TemperatureC, reading.PowerWatts,
            reading.EnergyWh, ActiveRequests > 0, ActiveRequests, RequestsServed, TokensWritten, Faults.RefuseConnections);
    }

    /// <summary>Sets the device temperature (it then follows the load again), to stage heat scenarios.</summary>
    public void SetTemperature(double celsius) => _thermal.SetTemperature(celsius);

    /// <summary>
    /// Stops listening: new connections are refused (ECONNREFUSED), in-flight requests are aborted.
    /// <see cref="AcceptConnectionsAsync"/> listens again on the same port.
    /// </summary>
    public async Task RefuseConnectionsAsync(CancellationToken cancellationToken = default)
    {
        await _listenerGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_app is null)
            {
                return;
            }

            Faults.RefuseConnections = true;
            WebApplication app = _app;
            _app = null;
            await _listenerStopping.CancelAsync().ConfigureAwait(false);
            await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
            SignalChanged();
        }
        finally
        {
            _listenerGate.Release();
        }
    }

    /// <summary>
    /// Listens again on the same port. The port was ours a moment ago and Kestrel binds with address
    /// reuse, so this works unless another process took the port meanwhile (then it throws).
    /// </summary>
    public async Task AcceptConnectionsAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        await StartListenerAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Waits until <paramref name="condition"/> holds; re-checked whenever requests start or end, tokens are
    /// written, writes block or unblock, and the listener stops or starts.
    /// </summary>
    public async Task WaitUntilAsync(Func<SimulatedBackend, bool> condition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(condition);
        while (true)
        {
            // Take the signal before checking, so a change between the check and the wait is not lost.
            Task changed = ChangedTask();
            if (condition(this))
            {
                return;
            }

            await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await RefuseConnectionsAsync(CancellationToken.None).ConfigureAwait(false);
        _listenerStopping.Dispose();
        _listenerGate.Dispose();
    }

    private async Task StartListenerAsync(CancellationToken cancellationToken)
    {
        await _listenerGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_app is not null)
            {
                return;
            }

            WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
            builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
            {
                kestrel.AddServerHeader = false;
                // A client that stops reading must block the generator (backpressure), not be cut
                // off for a low data rate.
                kestrel.Limits.MinResponseDataRate = null;
                kestrel.Listen(IPAddress.Loopback, _port, listen => listen.Use(next => connection =>
                {
                    Interlocked.Increment(ref _connectionsAccepted);
                    return next(connection);
                }));
            });
            builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(2));
            WebApplication app = builder.Build();

            var stopping = new CancellationTokenSource();
            CancellationTokenSource previous = Interlocked.Exchange(ref _listenerStopping, stopping);
            previous.Dispose();
            app.Run(context => HandleAsync(context, stopping.Token));

            try
            {
                await app.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await app.DisposeAsync().ConfigureAwait(false);
                throw;
            }

            string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            _port = new Uri(address).Port;
            _app = app;
            Faults.RefuseConnections = false;
            Interlocked.Increment(ref _listenerStarts);
            SignalChanged();
        }
        finally
        {
            _listenerGate.Release();
        }
    }

    private Task ChangedTask()
    {
        TaskCompletionSource? current = Volatile.Read(ref _changed);
        if (current is null)
        {
            var created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            current = Interlocked.CompareExchange(ref _changed, created, null) ?? created;
        }

        return current.Task;
    }

    private void SignalChanged()
    {
        // Cheap when nobody waits: one volatile read.
        if (Volatile.Read(ref _changed) is not null)
        {
            Interlocked.Exchange(ref _changed, null)?.TrySetResult();
        }
    }
}

/// <summary>What <c>GET /sim/state</c> reports, for the simulated system-state source.</summary>
public sealed record SimulatedDeviceState(
    string Device,
    string Hardware,
    double TemperatureC,
    double PowerWatts,
    double EnergyWh,
    bool Busy,
    int ActiveRequests,
    long RequestsServed,
    long TokensGenerated,
    bool RefusingConnections);
