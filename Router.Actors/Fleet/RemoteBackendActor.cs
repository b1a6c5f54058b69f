using Akka.Actor;
using Router.Actors.Backends;

namespace Router.Actors.Fleet;

/// <summary>
/// Stands in for a fleet peer's backend on this node, so a forwarded request holds a slot ticket
/// like any other. Admission belongs to the owner node (its gate, queue and health), so the gate
/// here is always open and never runs out; the actor only counts what it has forwarded in flight,
/// and once its node is lost it refuses new tickets so the router tries the next alternative.
/// </summary>
internal sealed class RemoteBackendActor : ReceiveActor
{
    /// <summary>No local limit: the owner node queues and refuses.</summary>
    private const int Unlimited = int.MaxValue / 2;

    private readonly string _backendId;
    private readonly SlotGate _gate = new(Unlimited);
    private int _inFlight;
    private string? _closedReason;

    public RemoteBackendActor(string backendId, BackendSlots slots)
    {
        _backendId = backendId;
        slots.Start(_gate, Self);
        _gate.SetOpen(true);

        Receive<CountGateAdmissions>(_ => CountAdmissions());
        Receive<SlotReleased>(_ =>
        {
            CountAdmissions();
            _inFlight--;
            _gate.Return();
        });
        Receive<SlotTicket>(OnTicket);
        Receive<TicketCancelled>(_ => { });
        Receive<FirstTokenArrived>(_ => { });
        // The owner node counts its device's failures; a failure here says nothing this node could act on.
        Receive<CallFailureConfirmed>(_ => { });
        Receive<CloseRemoteBackend>(close =>
        {
            _closedReason = close.Reason;
            _gate.SetOpen(false);
        });
        Receive<GetForwardedInFlight>(_ =>
        {
            CountAdmissions();
            Sender.Tell(_inFlight);
        });
    }

    /// <summary>Only reached when the gate is closed (the node is gone): the request goes elsewhere.</summary>
    private void OnTicket(SlotTicket ticket)
    {
        CountAdmissions();
        if (_closedReason is { } reason)
        {
            ticket.Reject($"backend '{_backendId}' is gone: {reason}", TimeSpan.FromSeconds(5), queueFull: false);
            return;
        }

        if (_gate.TryTake())
        {
            if (ticket.TryGrant())
            {
                _inFlight++;
            }
            else
            {
                _gate.Return(); // The request gave up meanwhile.
            }

            return;
        }

        ticket.Reject($"backend '{_backendId}' cannot take more requests", TimeSpan.FromSeconds(1), queueFull: true);
    }

    private void CountAdmissions()
    {
        while (_gate.TryDrainTaken(out _))
        {
            _inFlight++;
        }
    }

    protected override void PostStop() => _gate.SetOpen(false);
}

/// <summary>The node is lost: refuse new tickets with <paramref name="Reason"/>.</summary>
internal sealed record CloseRemoteBackend(string Reason);

/// <summary>Asks how many forwarded requests hold a ticket now; answered with an int.</summary>
internal sealed class GetForwardedInFlight
{
    public static readonly GetForwardedInFlight Instance = new();
    private GetForwardedInFlight() { }
}
