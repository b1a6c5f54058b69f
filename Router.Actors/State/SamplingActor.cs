using Router.Actors.Routing;
using Akka.Actor;

namespace Router.Actors.State;

/// <summary>Asks a sampling actor to sample now, outside its schedule.</summary>
public sealed class SampleNow
{
    public static readonly SampleNow Instance = new();
    private SampleNow() { }
}

/// <summary>Asks a sampling actor for its latest reading.</summary>
public sealed class GetLatestReading
{
    public static readonly GetLatestReading Instance = new();
    private GetLatestReading() { }
}

/// <summary>
/// Samples a source on its own schedule and publishes each reading that differs from the last.
/// The read runs outside the actor (a slow nvidia-smi must not stall the mailbox); one read at a
/// time, and a source that throws is reported as "no change" rather than crashing the actor.
/// </summary>
public abstract class SamplingActor<TReading> : ReceiveActor, IWithTimers
    where TReading : class
{
    private const string SampleTimer = "sample";
    private readonly TimeSpan _interval;
    private bool _sampling;
    private TReading _latest;

    protected SamplingActor(TimeSpan interval, TReading initial)
    {
        _interval = interval;
        _latest = initial;
        Receive<SampleNow>(_ => StartSample());
        Receive<Sampled>(OnSampled);
        Receive<GetLatestReading>(_ => Sender.Tell(_latest));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    protected TReading Latest => _latest;

    protected abstract ValueTask<TReading> ReadAsync(CancellationToken cancellationToken);

    protected abstract bool SameAs(TReading previous, TReading next);

    /// <summary>Called for every reading that differs from the previous one, after it is published.</summary>
    protected virtual void OnChanged(TReading previous, TReading next) { }

    protected override void PreStart()
    {
        Context.System.EventStream.Publish(_latest);
        StartSample();
        if (_interval > TimeSpan.Zero)
        {
            Timers.StartPeriodicTimer(SampleTimer, SampleNow.Instance, _interval);
        }
    }

    private void StartSample()
    {
        if (_sampling)
        {
            return;
        }

        _sampling = true;
        var self = Self;
        _ = Run();

        async Task Run()
        {
            TReading? reading = null;
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                reading = await ReadAsync(cts.Token).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // Sources report unavailability as values; anything else is a missed sample.
            catch (Exception)
#pragma warning restore CA1031
            {
                reading = null;
            }

            self.Tell(new Sampled(reading));
        }
    }

    private void OnSampled(Sampled message)
    {
        _sampling = false;
        if (message.Reading is not { } next || SameAs(_latest, next))
        {
            return;
        }

        var previous = _latest;
        _latest = next;
        Context.System.EventStream.Publish(next);
        OnChanged(previous, next);
    }

    private sealed record Sampled(TReading? Reading);
}

/// <summary>Samples AC, battery and measured power.</summary>
public sealed class PowerActor : SamplingActor<PowerReading>
{
    public const string Name = "power";

    private readonly IPowerSource _source;

    public PowerActor(IPowerSource source, TimeSpan interval, TimeProvider time)
        : base(interval, PowerReading.Unknown(time.GetUtcNow())) => _source = source;

    protected override ValueTask<PowerReading> ReadAsync(CancellationToken cancellationToken) => _source.ReadPowerAsync(cancellationToken);

    protected override bool SameAs(PowerReading previous, PowerReading next) => previous.SameAs(next);
}
