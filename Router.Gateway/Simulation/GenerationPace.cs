namespace Router.Gateway.Simulation;

/// <summary>
/// Keeps one generation on the device's schedule: each wait runs to a deadline counted from the
/// generation's start (the sum of the simulated steps so far, scaled), not for a step of its own.
/// </summary>
/// <remarks>
/// At small time scales a token's step is a fraction of a millisecond (NVIDIA at 0.01: 0.125 ms),
/// below what a timer resolves: a delay per token rounded to nothing, so a 200-token answer took
/// 5 ms instead of 26, and the device looked idle to its thermal model, which counts busy time.
/// Against deadlines, a step too short to wait for is carried into the next, and a timer that fires
/// late is caught up, so a generation takes its scaled time whatever the timer's resolution.
/// </remarks>
internal sealed class GenerationPace
{
    /// <summary>Shorter waits are carried over: the timer cannot resolve them.</summary>
    private static readonly TimeSpan ShortestWait = TimeSpan.FromMilliseconds(1);

    private readonly double _scale;
    private readonly TimeProvider _time;
    private readonly long _start;
    private TimeSpan _due;

    /// <param name="scale">The simulator's time scale; 0 or less: no waits at all.</param>
    public GenerationPace(double scale, TimeProvider time)
    {
        _scale = scale;
        _time = time;
        _start = time.GetTimestamp();
    }

    /// <summary>Waits until <paramref name="simulated"/> (scaled) more than the last deadline has passed since the start.</summary>
    public Task WaitAsync(TimeSpan simulated, CancellationToken token) =>
        _scale <= 0 || simulated <= TimeSpan.Zero ? Completed(token) : WaitUnscaledAsync(simulated * _scale, token);

    /// <summary>As <see cref="WaitAsync"/>, for a step already in real time (an injected slow-token delay).</summary>
    public Task WaitUnscaledAsync(TimeSpan real, CancellationToken token)
    {
        _due += real;
        TimeSpan remaining = _due - _time.GetElapsedTime(_start);
        return remaining < ShortestWait ? Completed(token) : Task.Delay(remaining, _time, token);
    }

    private static Task Completed(CancellationToken token) =>
        token.IsCancellationRequested ? Task.FromCanceled(token) : Task.CompletedTask;
}
