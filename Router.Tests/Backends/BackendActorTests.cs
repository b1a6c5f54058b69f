using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit;
using Microsoft.Extensions.Time.Testing;
using Router.Actors.Backends;
using Router.Actors.Config;
using Router.Actors.Routing;
using Router.Tests.TestKit;

namespace Router.Tests.Backends;

/// <summary>
/// One backend actor under the router's back-off supervision, with its priority mailbox, on
/// virtual time: the TestScheduler drives its timers (probes, ejection), a FakeTimeProvider the
/// request path's clock (aging).
/// </summary>
public sealed class BackendActorTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan Wait = AkkaTestConfig.Patience;
    private readonly FakeTimeProvider _time = new();
    private readonly FakeBackendClient _client = new("ollama-npu");
    private readonly BackendSlots _slots = new();
    private IActorRef _supervisor = null!;

    public BackendActorTests()
        : base(AkkaTestConfig.VirtualTime, nameof(BackendActorTests))
    {
    }

    private static BackendConfig Config(Func<BackendConfig, BackendConfig>? change = null)
    {
        var config = new BackendConfig
        {
            Id = "ollama-npu",
            Hardware = "npu",
            Endpoint = new Uri("http://127.0.0.1:1"),
            PowerWatts = 3,
            AvgLatencyMs = 800,
            QueueLimits = [4, 4, 4, 4],
            Health = new HealthCheckConfig
            {
                Interval = TimeSpan.FromSeconds(30),
                UnhealthyInterval = TimeSpan.FromSeconds(2),
                EjectAfterFailures = 3,
                BaseEjection = TimeSpan.FromSeconds(10),
                MaxEjection = TimeSpan.FromMinutes(5),
            },
        };
        return change is null ? config : change(config);
    }

    private TestScheduler Clock => (TestScheduler)Sys.Scheduler;

    /// <summary>The running incarnation of the backend's actor.</summary>
    private IActorRef Backend => _slots.Current!.Actor;

    private SlotGate Gate => _slots.Current!.Gate;

    /// <summary>Moves both clocks: the actor's timers and the request path's timestamps.</summary>
    private void Advance(TimeSpan by)
    {
        _time.Advance(by);
        Clock.Advance(by);
    }

    private async Task StartAsync(BackendConfig? config = null, TimeSpan? aging = null, BackendSupervision? supervision = null, EjectionGuard? ejections = null)
    {
        var routing = new RoutingConfig { AgingInterval = aging ?? TimeSpan.FromSeconds(5) };
        var backendConfig = config ?? Config();
        var props = Props.Create(() => new BackendActor(backendConfig, _client, routing, _slots, _time, ejections)).WithMailbox(BackendMailbox.ConfigPath);
        _supervisor = Sys.ActorOf(BackendsSupervisor.BackoffProps(props, supervision ?? BackendSupervision.Default), backendConfig.Id);
        await _slots.Started.WaitAsync(Wait);
        await WaitForAsync(s => s.Health == BackendHealth.Healthy);
    }

    private Task<BackendSnapshot> SnapshotAsync() =>
        Backend.Ask<BackendSnapshot>(GetBackendSnapshot.Instance, Wait);

    /// <summary>Asks the running incarnation for its snapshot until <paramref name="condition"/> holds.</summary>
    private async Task<BackendSnapshot> WaitForAsync(Func<BackendSnapshot, bool> condition)
    {
        BackendSnapshot? last = null;
        await AwaitAssertAsync(async () =>
        {
            last = await SnapshotAsync();
            Assert.True(condition(last), $"backend never reached the expected state; last: {last.Health} in-flight {last.InFlight} queue {string.Join("/", last.QueueDepthByPriority)}");
        }, Wait, TimeSpan.FromMilliseconds(5));
        return last!;
    }

    private SlotTicket Ticket(Priority priority = Priority.Normal)
    {
        var ticket = new SlotTicket(Backend, priority, "llama3.2:1b", _time.GetTimestamp());
        Backend.Tell(ticket);
        return ticket;
    }

    /// <summary>A request admitted through the gate, as the request path does it; null when the gate says "ask the actor".</summary>
    private SlotTicket? Admit(Priority priority = Priority.Normal)
    {
        var ticket = new SlotTicket(Backend, priority, "llama3.2:1b", _time.GetTimestamp());
        if (!Gate.TryAdmit(ticket))
        {
            return null;
        }

        ticket.ReportStarted();
        return ticket;
    }

    private static int Waiting(BackendSnapshot s) => s.QueueDepthByPriority.Sum();

    private static CallReport Report(CallOutcome outcome) => new(outcome, "llama3.2:1b", 100, 10, 0.5);

    [Fact]
    public async Task Ticket_FreeSlot_IsGrantedAndCountedInFlight()
    {
        await StartAsync();
        var grant = await Ticket().Task.WaitAsync(Wait);
        Assert.True(grant.IsGranted);
        await WaitForAsync(s => s.InFlight == 1);
    }

    [Fact]
    public async Task Release_WithBacklog_GrantsHighestPriorityFirst()
    {
        await StartAsync();
        var holder = Ticket(Priority.High); // high work is never preempted, so the queue order shows
        await holder.Task.WaitAsync(Wait);
        var bestEffort = Ticket(Priority.BestEffort);
        var normal = Ticket(Priority.Normal);
        var critical = Ticket(Priority.Critical);
        await WaitForAsync(s => Waiting(s) == 3);

        holder.Release(Report(CallOutcome.Succeeded));
        Assert.True((await critical.Task.WaitAsync(Wait)).IsGranted);
        await WaitForAsync(s => Waiting(s) == 2);
        Assert.False(normal.Task.IsCompleted);
        Assert.False(bestEffort.Task.IsCompleted);

        critical.Release(Report(CallOutcome.Succeeded));
        Assert.True((await normal.Task.WaitAsync(Wait)).IsGranted);
        await WaitForAsync(s => Waiting(s) == 1);
        Assert.False(bestEffort.Task.IsCompleted);

        normal.Release(Report(CallOutcome.Succeeded));
        Assert.True((await bestEffort.Task.WaitAsync(Wait)).IsGranted);
    }

    [Fact]
    public async Task Release_BestEffortWaitedSeveralAgingIntervals_ServedBeforeFreshCritical()
    {
        await StartAsync(aging: TimeSpan.FromSeconds(5));
        var holder = Ticket(Priority.High); // high work is never preempted, so the queue order shows
        await holder.Task.WaitAsync(Wait);
        var bestEffort = Ticket(Priority.BestEffort);
        await WaitForAsync(s => Waiting(s) == 1);

        Advance(TimeSpan.FromSeconds(16)); // three aging levels: best effort now ranks with critical, and is older
        var critical = Ticket(Priority.Critical);
        await WaitForAsync(s => Waiting(s) == 2);

        holder.Release(Report(CallOutcome.Succeeded));
        Assert.True((await bestEffort.Task.WaitAsync(Wait)).IsGranted);
        await WaitForAsync(s => s.InFlight == 1 && Waiting(s) == 1);
        Assert.False(critical.Task.IsCompleted);
    }

    [Fact]
    public async Task Ticket_QueueFullAtItsPriority_IsRejectedAsQueueFullWithRetryAfter()
    {
        await StartAsync(Config(c => c with { QueueLimits = [1, 4, 4, 4] }));
        await Ticket().Task.WaitAsync(Wait);
        var first = Ticket(Priority.BestEffort);
        await WaitForAsync(s => Waiting(s) == 1);

        var rejected = await Ticket(Priority.BestEffort).Task.WaitAsync(Wait);

        Assert.False(rejected.IsGranted);
        Assert.True(rejected.QueueFull);
        Assert.Contains("queue full at priority best-effort", rejected.RejectedReason, StringComparison.Ordinal);
        Assert.True(rejected.RetryAfter >= TimeSpan.FromSeconds(1));
        // Another priority still has room.
        Ticket(Priority.High);
        await WaitForAsync(s => Waiting(s) == 2);
        Assert.False(first.Task.IsCompleted);
    }

    [Fact]
    public async Task Cancel_WhileWaiting_FreesTheQueuePlaceAtOnce()
    {
        await StartAsync();
        await Ticket().Task.WaitAsync(Wait);
        var waiting = Ticket();
        await WaitForAsync(s => Waiting(s) == 1);

        waiting.Cancel();

        await WaitForAsync(s => Waiting(s) == 0 && s.InFlight == 1);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.Task);
    }

    [Fact]
    public async Task Cancel_AfterGrant_ReleasesTheSlot()
    {
        await StartAsync();
        var ticket = Ticket();
        await ticket.Task.WaitAsync(Wait);
        await WaitForAsync(s => s.InFlight == 1);

        ticket.Cancel();

        await WaitForAsync(s => s.InFlight == 0);
    }

    [Fact]
    public async Task Tickets_ThousandsCancelledAtRandomMoments_LeaveNoSlotOrQueuePlaceBehind()
    {
        await StartAsync(Config(c => c with { MaxConcurrent = 2, QueueLimits = [10_000, 10_000, 10_000, 10_000] }));
        var random = new Random(42);
        var tickets = new List<SlotTicket>();
        for (var i = 0; i < 3000; i++)
        {
            var ticket = Ticket((Priority)(i % 4));
            tickets.Add(ticket);
            switch (random.Next(3))
            {
                case 0:
                    ticket.Cancel(); // before or after the grant: the race is the point
                    break;
                case 1:
                    if (ticket.Task.IsCompletedSuccessfully && (await ticket.Task).IsGranted)
                    {
                        ticket.Release(Report(CallOutcome.Succeeded));
                    }

                    break;
            }
        }

        // Whatever is left: release what was granted, cancel what still waits.
        foreach (var ticket in tickets)
        {
            ticket.Cancel();
        }

        var final = await WaitForAsync(s => s.InFlight == 0 && Waiting(s) == 0);
        Assert.Equal(BackendHealth.Healthy, final.Health);
    }

    [Fact]
    public async Task Release_ConsecutiveBackendFailures_EjectThenHalfOpenTrialRestores()
    {
        await StartAsync();
        for (var i = 0; i < 3; i++)
        {
            var ticket = Ticket();
            await ticket.Task.WaitAsync(Wait);
            ticket.Release(Report(CallOutcome.BackendFailed));
        }

        var ejected = await WaitForAsync(s => s.Health == BackendHealth.Ejected);
        Assert.Contains("3 consecutive requests failed", ejected.StatusMessage, StringComparison.Ordinal);
        var refused = await Ticket().Task.WaitAsync(Wait);
        Assert.False(refused.IsGranted);
        Assert.False(refused.QueueFull);

        Advance(TimeSpan.FromSeconds(10));
        await WaitForAsync(s => s.Health is BackendHealth.Degraded or BackendHealth.Healthy);
        var trial = Ticket();
        Assert.True((await trial.Task.WaitAsync(Wait)).IsGranted);
        trial.Release(Report(CallOutcome.Succeeded));
        await WaitForAsync(s => s.Health == BackendHealth.Healthy && s.InFlight == 0);
    }

    [Fact]
    public async Task HalfOpen_TrialFails_EjectedForTwiceAsLong()
    {
        await StartAsync();
        for (var i = 0; i < 3; i++)
        {
            var ticket = Ticket();
            await ticket.Task.WaitAsync(Wait);
            ticket.Release(Report(CallOutcome.BackendFailed));
        }

        await WaitForAsync(s => s.Health == BackendHealth.Ejected);
        // The half-open probe does not answer, so the trial request alone decides.
        _client.ProbeGate = new TaskCompletionSource();
        Advance(TimeSpan.FromSeconds(10));
        await WaitForAsync(s => s.Health == BackendHealth.Degraded);

        var trial = Ticket();
        Assert.True((await trial.Task.WaitAsync(Wait)).IsGranted);
        var second = Ticket();
        await WaitForAsync(s => Waiting(s) == 1); // half-open serves one trial at a time
        trial.Release(Report(CallOutcome.BackendFailed));

        var ejected = await WaitForAsync(s => s.Health == BackendHealth.Ejected);
        Assert.Contains("ejected for 20 s", ejected.StatusMessage, StringComparison.Ordinal);
        Assert.False((await second.Task.WaitAsync(Wait)).IsGranted);
        _client.ProbeGate.SetResult();
    }

    [Fact]
    public async Task Probe_Fails_BackendUnhealthyAndWaitingRequestsRejected_ThenProbeSuccessRestores()
    {
        await StartAsync();
        var holder = Ticket();
        await holder.Task.WaitAsync(Wait);
        var waiting = Ticket();
        await WaitForAsync(s => Waiting(s) == 1);

        _client.FailProbes(new BackendError(BackendErrorKind.ConnectFailed, "connection refused"));
        Backend.Tell(ProbeNow.Instance);

        var unhealthy = await WaitForAsync(s => s.Health == BackendHealth.Unhealthy);
        Assert.Contains("connection refused", unhealthy.StatusMessage, StringComparison.Ordinal);
        var rejected = await waiting.Task.WaitAsync(Wait);
        Assert.False(rejected.IsGranted);
        Assert.Contains("unhealthy", rejected.RejectedReason, StringComparison.Ordinal);

        _client.FailProbes(null);
        var probesBefore = _client.Probes;
        Advance(TimeSpan.FromSeconds(2)); // the unhealthy probe interval
        await WaitForAsync(s => s.Health == BackendHealth.Healthy);
        Assert.True(_client.Probes > probesBefore);
        holder.Release(Report(CallOutcome.Succeeded));
    }

    [Fact]
    public async Task Snapshot_AfterModelRefresh_ListsTheBackendsModels()
    {
        _client.SetModels("qwen2.5:0.5b", "llama3.2:latest");
        await StartAsync();

        var snapshot = await WaitForAsync(s => s.ModelsKnown);

        Assert.Contains("qwen2.5:0.5b", snapshot.Models);
        Assert.Contains("llama3.2:latest", snapshot.Models);
        Assert.Contains("llama3.2", snapshot.Models); // Ollama resolves the bare name to :latest
    }

    [Fact]
    public async Task FirstTokenAndRelease_UpdateLiveMetricsForTheModel()
    {
        await StartAsync();
        var ticket = Ticket();
        await ticket.Task.WaitAsync(Wait);

        ticket.ReportFirstToken(420);
        ticket.Release(new CallReport(CallOutcome.Succeeded, "llama3.2:1b", 420, 40, 2.0));

        var snapshot = await WaitForAsync(s => s.MetricsByModel.ContainsKey("llama3.2:1b") && s.InFlight == 0);
        var metrics = snapshot.MetricsByModel["llama3.2:1b"];
        Assert.Equal(420, metrics.TimeToFirstTokenMs, 3);
        Assert.Equal(20, metrics.TokensPerSecond, 3);
        Assert.Equal(1, snapshot.RequestsTotal);
    }

    [Fact]
    public async Task Snapshot_IsPublishedOnTheEventStreamOnEveryChange()
    {
        var probe = CreateTestProbe();
        Sys.EventStream.Subscribe(probe.Ref, typeof(BackendSnapshot));
        await StartAsync();

        Ticket();

        await probe.FishForMessageAsync<BackendSnapshot>(s => s.InFlight == 1, Wait);
    }


    [Fact]
    public async Task Critical_AllSlotsHeldByBestEffort_TakesTheSlotAndShedsTheBestEffortRequest()
    {
        await StartAsync();
        var bestEffort = Ticket(Priority.BestEffort);
        await bestEffort.Task.WaitAsync(Wait);

        var critical = Ticket(Priority.Critical);

        Assert.True((await critical.Task.WaitAsync(Wait)).IsGranted);
        Assert.True(bestEffort.PreemptionToken.WaitHandle.WaitOne(Wait));
        var snapshot = await WaitForAsync(s => s.PreemptedTotal == 1);
        Assert.Equal(1, snapshot.InFlight);
        Assert.Equal(1, snapshot.InFlightByPriority[(int)Priority.Critical]);
        // The shed request's late release frees nothing twice.
        bestEffort.Release(Report(CallOutcome.Preempted));
        critical.Release(Report(CallOutcome.Succeeded));
        await WaitForAsync(s => s.InFlight == 0);
    }

    [Fact]
    public async Task Critical_SlotHeldByHighPriorityWork_WaitsInsteadOfPreempting()
    {
        await StartAsync();
        var high = Ticket(Priority.High);
        await high.Task.WaitAsync(Wait);

        var critical = Ticket(Priority.Critical);

        await WaitForAsync(s => Waiting(s) == 1);
        Assert.False(critical.Task.IsCompleted);
        Assert.False(high.IsPreempted);
        high.Release(Report(CallOutcome.Succeeded));
        Assert.True((await critical.Task.WaitAsync(Wait)).IsGranted);
    }

    [Fact]
    public async Task Critical_BestEffortAndNormalRunning_ShedsBestEffortFirst()
    {
        await StartAsync(Config(c => c with { MaxConcurrent = 2 }));
        var normal = Ticket(Priority.Normal);
        await normal.Task.WaitAsync(Wait);
        var bestEffort = Ticket(Priority.BestEffort);
        await bestEffort.Task.WaitAsync(Wait);

        var critical = Ticket(Priority.Critical);

        Assert.True((await critical.Task.WaitAsync(Wait)).IsGranted);
        Assert.True(bestEffort.IsPreempted);
        Assert.False(normal.IsPreempted);
    }

    [Fact]
    public async Task Gate_FreeSlotAndNobodyWaiting_AdmitsAtOnceAndTheActorCountsIt()
    {
        await StartAsync(Config(c => c with { MaxConcurrent = 2 }));

        var ticket = Admit();

        Assert.NotNull(ticket);
        Assert.True(ticket.Task.IsCompletedSuccessfully);
        Assert.True((await ticket.Task).IsGranted);
        await WaitForAsync(s => s.InFlight == 1);
        Assert.Equal(1, Gate.Free);
        ticket.Release(Report(CallOutcome.Succeeded));
        var idle = await WaitForAsync(s => s.InFlight == 0);
        Assert.Equal(1, idle.RequestsTotal);
        Assert.Equal(2, Gate.Free);
    }

    [Fact]
    public async Task Gate_AdmittedRequestIsPublishedInFlightOnTheEventStream()
    {
        var probe = CreateTestProbe();
        Sys.EventStream.Subscribe(probe.Ref, typeof(BackendSnapshot));
        await StartAsync();

        Assert.NotNull(Admit());

        // /backends, the metrics and routing read published snapshots: a call under way must show.
        await probe.FishForMessageAsync<BackendSnapshot>(s => s.InFlight == 1, Wait);
    }

    [Fact]
    public async Task Gate_AllSlotsTaken_SendsTheRequestToTheQueueAndTheReleaseGoesToIt()
    {
        await StartAsync();
        var first = Admit();
        Assert.NotNull(first);

        Assert.Null(Admit());
        var queued = Ticket();
        await WaitForAsync(s => Waiting(s) == 1);
        Assert.False(queued.Task.IsCompleted);
        first.Release(Report(CallOutcome.Succeeded));

        Assert.True((await queued.Task.WaitAsync(Wait)).IsGranted);
        // The slot passed from one request to the next: none went back to the gate.
        Assert.Equal(0, Gate.Free);
        queued.Release(Report(CallOutcome.Succeeded));
        await WaitForAsync(s => s.InFlight == 0);
        Assert.Equal(1, Gate.Free);
        Assert.NotNull(Admit());
    }

    [Fact]
    public async Task Gate_SomebodyQueued_ClosesSoNewRequestsCannotJumpTheQueue()
    {
        await StartAsync(Config(c => c with { MaxConcurrent = 2 }));
        var running = Ticket(Priority.High);
        await running.Task.WaitAsync(Wait);
        var second = Ticket(Priority.High);
        await second.Task.WaitAsync(Wait);
        var waiting = Ticket(Priority.BestEffort);
        await WaitForAsync(s => Waiting(s) == 1);

        Assert.False(Gate.IsOpen);
        running.Release(Report(CallOutcome.Succeeded));
        Assert.True((await waiting.Task.WaitAsync(Wait)).IsGranted);
        await WaitForAsync(s => Waiting(s) == 0);
        Assert.True(Gate.IsOpen);
    }

    [Fact]
    public async Task Gate_CriticalRequest_PreemptsBestEffortWorkAdmittedThroughTheGate()
    {
        await StartAsync();
        var bestEffort = Admit(Priority.BestEffort);
        Assert.NotNull(bestEffort);

        var critical = Ticket(Priority.Critical);

        Assert.True((await critical.Task.WaitAsync(Wait)).IsGranted);
        Assert.True(bestEffort.IsPreempted);
        bestEffort.Release(Report(CallOutcome.Preempted));
        critical.Release(Report(CallOutcome.Succeeded));
        await WaitForAsync(s => s.InFlight == 0);
        // The shed request's slot went to the critical one and came back once.
        Assert.Equal(1, Gate.Free);
    }

    [Fact]
    public async Task Gate_BackendUnhealthy_IsClosedAndTheActorRejects()
    {
        await StartAsync();
        _client.FailProbes(new BackendError(BackendErrorKind.ConnectFailed, "connection refused"));
        Backend.Tell(ProbeNow.Instance);
        await WaitForAsync(s => s.Health == BackendHealth.Unhealthy);

        Assert.False(Gate.IsOpen);
        Assert.Null(Admit());
        Assert.False((await Ticket().Task.WaitAsync(Wait)).IsGranted);
    }

    [Fact]
    public async Task Kill_BackendActorFails_ReplacedAfterBackOffAndLearnsItsHealthFromAFreshProbe()
    {
        await StartAsync();
        var first = _slots.Current!;
        var probes = _client.Probes;
        var snapshots = CreateTestProbe();
        Sys.EventStream.Subscribe(snapshots.Ref, typeof(BackendSnapshot));

        first.Actor.Tell(Kill.Instance);

        // The stopped incarnation takes itself out of routing at once.
        await snapshots.FishForMessageAsync<BackendSnapshot>(s => s.Health == BackendHealth.Unhealthy, Wait);
        // The back-off (100 ms ±20 %) runs on virtual time, from whenever the supervisor saw the
        // old one stop: move time on until the new incarnation runs.
        await AwaitConditionAsync(() =>
        {
            Advance(TimeSpan.FromMilliseconds(50));
            return Task.FromResult(_slots.Current!.Number == first.Number + 1);
        }, Wait, TimeSpan.FromMilliseconds(5));
        var healthy = await WaitForAsync(s => s.Health == BackendHealth.Healthy);
        Assert.True(_client.Probes > probes);
        Assert.True(healthy.Version > first.Number << 32, "the new incarnation's snapshots outrank the old one's");
        Assert.True(Gate.IsOpen);
    }

    [Fact]
    public async Task Kill_TicketSentToTheStoppedIncarnation_IsRejectedNotLost()
    {
        var rejecter = Sys.ActorOf(Props.Create<UndeliveredTicketRejecter>());
        UndeliveredTicketRejecter.Subscribe(Sys, rejecter);
        await StartAsync();
        var stopped = Backend;
        Watch(stopped);
        stopped.Tell(Kill.Instance);
        await ExpectTerminatedAsync(stopped, Wait);

        var ticket = new SlotTicket(stopped, Priority.Normal, "llama3.2:1b", _time.GetTimestamp());
        stopped.Tell(ticket);

        var grant = await ticket.Task.WaitAsync(Wait);
        Assert.False(grant.IsGranted);
        Assert.Contains("restarting", grant.RejectedReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kill_MoreThanTheRestartBudgetInItsWindow_BackendStaysDownAndTheSupervisorStops()
    {
        // Back-offs as short as the virtual clock's step, and a window no step reaches: the budget alone decides.
        var supervision = new BackendSupervision { MinBackoff = TimeSpan.FromMilliseconds(1), MaxBackoff = TimeSpan.FromMilliseconds(1), MaxRestarts = 3, Window = TimeSpan.FromDays(1) };
        await StartAsync(supervision: supervision);
        Watch(_supervisor);
        var snapshots = CreateTestProbe();
        Sys.EventStream.Subscribe(snapshots.Ref, typeof(BackendSnapshot));

        for (var restart = 1; restart <= supervision.MaxRestarts; restart++)
        {
            var incarnation = _slots.Current!.Number;
            Backend.Tell(Kill.Instance);
            await AwaitConditionAsync(() =>
            {
                Advance(TimeSpan.FromMilliseconds(10));
                return Task.FromResult(_slots.Current!.Number == incarnation + 1);
            }, Wait, TimeSpan.FromMilliseconds(5));
        }

        Backend.Tell(Kill.Instance);

        await ExpectTerminatedAsync(_supervisor, Wait);
        var last = await snapshots.FishForMessageAsync<BackendSnapshot>(s => s.Health == BackendHealth.Unhealthy && s.Version >> 32 == supervision.MaxRestarts + 1, Wait);
        Assert.Contains("stopped", last.StatusMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mailbox_MessagesQueuedWhileBusy_ControlFirstThenTicketsByPriorityFifoWithinALevel()
    {
        using var busy = new ManualResetEventSlim();
        var order = CreateTestProbe();
        var recorder = Sys.ActorOf(Props.Create(() => new OrderRecorder(busy, order.Ref)).WithMailbox(BackendMailbox.ConfigPath));
        recorder.Tell("hold");
        await order.ExpectMsgAsync("holding", Wait);

        var tickets = new[]
        {
            new SlotTicket(recorder, Priority.BestEffort, "be-1", 0),
            new SlotTicket(recorder, Priority.Normal, "normal", 0),
            new SlotTicket(recorder, Priority.Critical, "critical-1", 0),
            new SlotTicket(recorder, Priority.BestEffort, "be-2", 0),
            new SlotTicket(recorder, Priority.High, "high", 0),
            new SlotTicket(recorder, Priority.Critical, "critical-2", 0),
        };
        foreach (var ticket in tickets)
        {
            recorder.Tell(ticket);
        }

        recorder.Tell(ProbeNow.Instance);
        recorder.Tell(new SlotReleased(tickets[0], new CallReport(CallOutcome.Succeeded, null, null, 0, null)));
        busy.Set();

        var seen = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            seen.Add(await order.ExpectMsgAsync<string>(Wait));
        }

        Assert.Equal(["control:ProbeNow", "control:SlotReleased", "critical-1", "critical-2", "high", "normal", "be-1", "be-2"], seen);
    }

    /// <summary>Holds its mailbox shut until released, then reports each message in the order it gets them.</summary>
    private sealed class OrderRecorder : ReceiveActor
    {
        public OrderRecorder(ManualResetEventSlim busy, IActorRef order)
        {
            Receive<string>(_ =>
            {
                order.Tell("holding");
                busy.Wait(AkkaTestConfig.Patience);
            });
            Receive<SlotTicket>(ticket => order.Tell(ticket.Model!));
            ReceiveAny(message => order.Tell("control:" + message.GetType().Name));
        }
    }

    private async Task FailInARowAsync(int requests, BackendErrorKind kind = BackendErrorKind.HttpStatus)
    {
        for (var i = 0; i < requests; i++)
        {
            var ticket = Ticket();
            await ticket.Task.WaitAsync(Wait);
            ticket.Release(Report(CallOutcome.BackendFailed) with { Failure = kind });
        }
    }

    [Fact]
    public async Task Eject_PastThePanicThreshold_StaysInServiceAndSaysWhy()
    {
        // Two backends: the other one is ejected already, so ejecting this one would leave none.
        var guard = new EjectionGuard(2, 0.5);
        Assert.True(guard.TryEject("ollama-other", out _));
        await StartAsync(ejections: guard);

        await FailInARowAsync(3);

        var snapshot = await WaitForAsync(s => s.FailuresTotal == 3 && s.InFlight == 0);
        Assert.Equal(BackendHealth.Healthy, snapshot.Health);
        Assert.Contains("kept in service", snapshot.StatusMessage, StringComparison.Ordinal);
        Assert.True((await Ticket().Task.WaitAsync(Wait)).IsGranted);
    }

    [Fact]
    public async Task Ejection_QuietStretchAfterRecovery_NextEjectionPeriodHalvesAgain()
    {
        await StartAsync();
        // Ejected twice: 10 s, then 20 s.
        for (var round = 1; round <= 2; round++)
        {
            await FailInARowAsync(3);
            var ejected = await WaitForAsync(s => s.Health == BackendHealth.Ejected);
            Assert.Contains($"ejected for {10 * round} s", ejected.StatusMessage, StringComparison.Ordinal);
            Advance(TimeSpan.FromSeconds(10 * round));
            await WaitForAsync(s => s.Health is BackendHealth.Degraded or BackendHealth.Healthy);
            var trial = Ticket();
            await trial.Task.WaitAsync(Wait);
            trial.Release(Report(CallOutcome.Succeeded));
            await WaitForAsync(s => s.Health == BackendHealth.Healthy && s.InFlight == 0);
        }

        Advance(TimeSpan.FromMinutes(1)); // one quiet ejection-decay stretch: one doubling undone
        await FailInARowAsync(3);

        var again = await WaitForAsync(s => s.Health == BackendHealth.Ejected);
        Assert.Contains("ejected for 20 s", again.StatusMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FirstByteTimeout_QueueHeldUntilTheProbeSentAtOnceAnswers()
    {
        await StartAsync();
        var hung = Ticket();
        await hung.Task.WaitAsync(Wait);
        var queued = Ticket();
        await WaitForAsync(s => Waiting(s) == 1);
        _client.ProbeGate = new TaskCompletionSource();
        var probes = _client.Probes;

        hung.Release(Report(CallOutcome.BackendFailed) with { Failure = BackendErrorKind.Timeout });

        // The probe went out without waiting for its timer, and the freed slot is not handed on.
        await AwaitConditionAsync(() => Task.FromResult(_client.Probes > probes), Wait);
        var held = await WaitForAsync(s => s.InFlight == 0);
        Assert.Equal(1, Waiting(held));
        Assert.False(queued.Task.IsCompleted);
        Assert.False(Gate.IsOpen);

        _client.ProbeGate.SetResult(); // the device answers its probe: serving again

        Assert.True((await queued.Task.WaitAsync(Wait)).IsGranted);
    }

    [Fact]
    public async Task FirstByteTimeout_ProbeFails_QueuedRequestsFallBackElsewhere()
    {
        await StartAsync();
        var hung = Ticket();
        await hung.Task.WaitAsync(Wait);
        var queued = Ticket();
        await WaitForAsync(s => Waiting(s) == 1);
        _client.FailProbes(new BackendError(BackendErrorKind.Timeout, "health probe timed out after 3 s"));

        hung.Release(Report(CallOutcome.BackendFailed) with { Failure = BackendErrorKind.Timeout });

        var rejected = await queued.Task.WaitAsync(Wait);
        Assert.False(rejected.IsGranted);
        Assert.Contains("unhealthy", rejected.RejectedReason, StringComparison.Ordinal);
    }
}
