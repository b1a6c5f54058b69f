namespace Router.Gateway.Simulation;

/// <summary>
/// Faults injected into a simulated backend, changeable at any time from code or with
/// <c>POST /sim/faults</c>. They apply to the API endpoints, not to <c>/sim/*</c>. Refusing
/// connections is on <see cref="SimulatedBackend"/> because it stops and restarts the listener.
/// </summary>
public sealed class SimulatorFaults
{
    private int _errorStatus;
    private int _hang;
    private int _dropAfterTokens = -1;
    private long _slowTokenTicks;
    private int _refusing;

    /// <summary>When non-zero, every API request is answered with this status (e.g. 503) and an error body.</summary>
    public int ErrorStatus
    {
        get => Volatile.Read(ref _errorStatus);
        set => Volatile.Write(ref _errorStatus, value is 0 or (>= 400 and <= 599) ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "Expected 0 or 400–599."));
    }

    /// <summary>Requests are accepted and never answered until the client goes away.</summary>
    public bool Hang
    {
        get => Volatile.Read(ref _hang) != 0;
        set => Volatile.Write(ref _hang, value ? 1 : 0);
    }

    /// <summary>
    /// When ≥ 0, a generation aborts its connection after this many tokens (a non-streaming one
    /// before answering); -1 disables.
    /// </summary>
    public int DropAfterTokens
    {
        get => Volatile.Read(ref _dropAfterTokens);
        set => Volatile.Write(ref _dropAfterTokens, value < 0 ? -1 : value);
    }

    /// <summary>Extra delay before each token, in real time (not scaled by the time scale).</summary>
    public TimeSpan SlowTokenDelay
    {
        get => TimeSpan.FromTicks(Volatile.Read(ref _slowTokenTicks));
        set => Volatile.Write(ref _slowTokenTicks, value < TimeSpan.Zero ? 0 : value.Ticks);
    }

    /// <summary>Whether the backend refuses connections (see <see cref="SimulatedBackend.RefuseConnectionsAsync"/>).</summary>
    public bool RefuseConnections
    {
        get => Volatile.Read(ref _refusing) != 0;
        internal set => Volatile.Write(ref _refusing, value ? 1 : 0);
    }

    /// <summary>Removes the request faults (not the refusal, which needs the listener back).</summary>
    public void Clear()
    {
        ErrorStatus = 0;
        Hang = false;
        DropAfterTokens = -1;
        SlowTokenDelay = TimeSpan.Zero;
    }
}
