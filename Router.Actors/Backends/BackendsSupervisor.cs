using System.Collections.Immutable;
using Akka.Actor;
using Akka.Pattern;
using Router.Actors.Config;

namespace Router.Actors.Backends;

/// <summary>What the backends supervisor needs to start one backend's actor.</summary>
public sealed record BackendActorSpec(BackendConfig Config, IBackendClient Client, BackendSlots Slots);

/// <summary>
/// How a failing backend actor is replaced: after a back-off that doubles from
/// <see cref="MinBackoff"/> to <see cref="MaxBackoff"/> (±20 %), at most <see cref="MaxRestarts"/>
/// times within <see cref="Window"/>; past that the backend stays down.
/// </summary>
public sealed record BackendSupervision
{
    public static readonly BackendSupervision Default = new();

    public TimeSpan MinBackoff { get; init; } = TimeSpan.FromMilliseconds(100);
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(10);
    public int MaxRestarts { get; init; } = 10;
    public TimeSpan Window { get; init; } = TimeSpan.FromMinutes(1);
}

/// <summary>
/// Parent of the backend actors (<c>/user/backends</c>). Each backend runs under its own back-off
/// supervisor (<c>/user/backends/{id}</c>, its actor <c>/user/backends/{id}/backend</c>): a backend
/// actor that throws is stopped and started anew after a back-off (<see cref="BackendSupervision"/>);
/// the new incarnation learns its health from a fresh probe. One backend's trouble never touches
/// the others, and never takes the daemon down.
/// </summary>
public sealed class BackendsSupervisor : ReceiveActor
{
    public const string Name = "backends";
    public const string BackendChildName = "backend";

    public BackendsSupervisor(ImmutableArray<BackendActorSpec> backends, RoutingConfig routing, TimeProvider time, BackendSupervision supervision)
    {
        ArgumentNullException.ThrowIfNull(routing);
        // One guard for all: an ejection counts against the share of backends out of service.
        var ejections = new EjectionGuard(backends.Length, routing.PanicThreshold);
        foreach (var spec in backends)
        {
            var props = Props.Create(() => new BackendActor(spec.Config, spec.Client, routing, spec.Slots, time, ejections))
                .WithMailbox(BackendMailbox.ConfigPath);
            Context.ActorOf(BackoffProps(props, supervision), spec.Config.Id);
        }
    }

    /// <summary>The back-off supervisor of one backend actor. Every failure is met with a restart (a new incarnation).</summary>
    public static Props BackoffProps(Props backend, BackendSupervision supervision)
    {
        ArgumentNullException.ThrowIfNull(supervision);
        return BackoffSupervisor.Props(
            Backoff.OnFailure(backend, BackendChildName, supervision.MinBackoff, supervision.MaxBackoff, randomFactor: 0.2, maxNrOfRetries: supervision.MaxRestarts)
                // The count (and the back-off) start again only after a whole window without a failure.
                .WithAutoReset(supervision.Window)
                .WithSupervisorStrategy(new OneForOneStrategy(supervision.MaxRestarts, supervision.Window, _ => Directive.Restart)));
    }
}
