using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Threading.Channels;
using Router.Actors.Backends;
using Router.Actors.Config;
using Akka.Actor;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Router.Actors.Routing;

namespace Router.Actors.Inference;

/// <summary>A backend as the request path sees it: its client, and where its running actor and slot gate are.</summary>
internal sealed record BackendHandle(BackendConfig Config, IBackendClient Client, BackendSlots Slots);

/// <summary>
/// The request path. For each attempt: (1) score the published routing table for a decision,
/// excluding backends already tried; (2) take a slot on the chosen backend (through its gate, or
/// from its actor, which queues by priority);
/// (3) call the backend outside any actor; (4) if it fails before the first byte and the failure
/// is the backend's, release the slot and try the next alternative. Once the first event has
/// arrived the request belongs to that backend; the slot is released exactly once when the
/// answer ends, fails, or the caller goes away.
/// </summary>
internal sealed partial class InferenceRouter : IInferenceRouter
{
    private readonly RoutingTable _table;
    private readonly ScoringOptions _scoring;
    private readonly BackendDirectory _backends;
    private readonly RoutingConfig _routing;
    private readonly TimeProvider _time;
    private readonly IRequestObserver? _observer;

    public InferenceRouter(RoutingTable table, ScoringOptions scoring, BackendDirectory backends, RoutingConfig routing, TimeProvider time, IRequestObserver? observer)
    {
        _table = table;
        _scoring = scoring;
        _backends = backends;
        _routing = routing;
        _time = time;
        _observer = observer;
    }

    public async ValueTask<Result<RoutingDecision, RouteFailure>> ExplainAsync(string? model, RoutingHints hints, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(hints);
        var outcome = await RouteAsync(new RouteRequest(model, hints), cancellationToken).ConfigureAwait(false);
        return outcome.Decision is { } decision
            ? Result<RoutingDecision, RouteFailure>.Ok(decision)
            : Result<RoutingDecision, RouteFailure>.Fail(outcome.Failure!);
    }

    public async ValueTask<Result<IInferenceStream, InferenceError>> StreamAsync(InferenceRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var started = _time.GetTimestamp();
        var attempts = new Attempts(this, request);
        try
        {
            while (true)
            {
                var admitted = await attempts.NextAsync(cancellationToken).ConfigureAwait(false);
                if (admitted.Error is { } error)
                {
                    return error;
                }

                var (decision, handle, ticket, backendRequest) = admitted.Slot!.Value;
                // The call ends when the client goes away or a critical request takes the slot.
                var call = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, ticket.PreemptionToken);
                var events = handle.Client.Stream(backendRequest, call.Token);
                ticket.ReportStarted();
                StreamEvent first;
                try
                {
                    first = await events.ReadAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && ticket.IsPreempted)
                {
                    first = new StreamFailed(Preempted(decision.BackendId));
                }
                catch (OperationCanceledException)
                {
                    await call.CancelAsync().ConfigureAwait(false);
                    call.Dispose();
                    ticket.Release(new CallReport(CallOutcome.Cancelled, request.Model, null, 0, null));
                    throw;
                }
                catch (ChannelClosedException)
                {
                    first = new StreamFailed(new BackendError(BackendErrorKind.Protocol, "the backend stream ended without an answer"));
                }

                if (first is StreamFailed failed)
                {
                    call.Dispose();
                    if (attempts.Failed(decision, handle, ticket, failed.Error) is { } final)
                    {
                        return final;
                    }

                    continue;
                }

                return Result<IInferenceStream, InferenceError>.Ok(
                    new InferenceStream(this, request, decision, handle, ticket, call, events, first, started));
            }
        }
        finally
        {
            // A failure held to see whose fault it was counts against its device unless shown otherwise.
            attempts.Settle();
        }
    }

    public async ValueTask<Result<InferenceResponse, InferenceError>> SendAsync(InferenceRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var started = _time.GetTimestamp();
        var attempts = new Attempts(this, request);
        try
        {
            while (true)
            {
                var admitted = await attempts.NextAsync(cancellationToken).ConfigureAwait(false);
                if (admitted.Error is { } error)
                {
                    return error;
                }

                var (decision, handle, ticket, backendRequest) = admitted.Slot!.Value;
                var granted = _time.GetTimestamp();
                Result<BackendResponse, BackendError> result;
                using (var call = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, ticket.PreemptionToken))
                {
                    try
                    {
                        var sending = handle.Client.SendAsync(backendRequest, call.Token);
                        ticket.ReportStarted();
                        result = await sending.ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && ticket.IsPreempted)
                    {
                        result = Preempted(decision.BackendId);
                    }
                    catch (OperationCanceledException)
                    {
                        ticket.Release(new CallReport(CallOutcome.Cancelled, request.Model, null, 0, null));
                        throw;
                    }
                }

                if (ticket.IsPreempted && result.IsOk)
                {
                    // Finished just as it was preempted: the answer is complete, keep it.
                    ticket.Release(new CallReport(CallOutcome.Preempted, request.Model, null, 0, null));
                }

                if (!result.IsOk)
                {
                    if (attempts.Failed(decision, handle, ticket, result.Error) is { } final)
                    {
                        return final;
                    }

                    continue;
                }

                var response = result.Value;
                var total = _time.GetElapsedTime(started);
                var busy = _time.GetElapsedTime(granted);
                var tokens = response.Usage.CompletionTokens;
                var generation = response.Usage.EvalDuration?.TotalSeconds;
                var stats = Stats(decision, handle, total.TotalMilliseconds, total.TotalMilliseconds, tokens, generation, busy);
                // A whole answer says nothing about when its first token came: it does not teach the
                // backend a time to first token (latency-critical routing relies on that figure).
                ticket.Release(new CallReport(CallOutcome.Succeeded, request.Model, null, tokens, generation));
                Observe(decision, request, CallOutcome.Succeeded, stats, streaming: false, granted);
                return Result<InferenceResponse, InferenceError>.Ok(new InferenceResponse(decision, response, stats));
            }
        }
        finally
        {
            // A failure held to see whose fault it was counts against its device unless shown otherwise.
            attempts.Settle();
        }
    }

    internal static BackendError Preempted(string backendId) =>
        new(BackendErrorKind.Preempted, $"backend '{backendId}' was needed for a critical request; this request was shed (retry later, or raise its priority)");

    // Inline on the request's thread, from the latest published routing table.
    private ValueTask<RouteOutcome> RouteAsync(RouteRequest request, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return new ValueTask<RouteOutcome>(_table.Route(request, _scoring));
    }

    internal GenerationStats Stats(RoutingDecision decision, BackendHandle handle, double ttftMs, double totalMs, int tokens, double? generationSeconds, TimeSpan busy)
    {
        _ = decision;
        var genSeconds = generationSeconds ?? Math.Max(0, (totalMs - ttftMs) / 1000);
        var tokensPerSecond = tokens > 0 && genSeconds > 0 ? tokens / genSeconds : 0;
        // Energy of a request = the device's power × the time it was busy with it.
        var energyWh = handle.Config.PowerWatts * busy.TotalSeconds / 3600;
        return new GenerationStats(ttftMs, totalMs, tokens, tokensPerSecond, energyWh);
    }

    internal void Observe(RoutingDecision decision, InferenceRequest request, CallOutcome outcome, GenerationStats stats, bool streaming, long busySince)
    {
        if (_observer is null)
        {
            return;
        }

        try
        {
            var power = _backends.TryGetValue(decision.BackendId, out var handle) ? handle.Config.PowerWatts : 0;
            var since = _time.GetUtcNow() - _time.GetElapsedTime(busySince);
            _observer.OnRequestFinished(new RequestRecord(decision.BackendId, decision.Reason, request.Hints.Priority, outcome, stats, streaming, request.Model, since, power) { RequestId = request.Hints.RequestId });
        }
#pragma warning disable CA1031 // Metrics must never break a request: the failure is logged, the request goes on.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            Log.ObserverFailed(Logger, decision.BackendId, request.Hints.RequestId, exception);
        }
    }

    internal TimeProvider Time => _time;

    /// <summary>Set by the host once its loggers exist; until then nothing is logged.</summary>
    internal ILogger Logger { get; set; } = NullLogger.Instance;

    /// <summary>
    /// The attempts of one request: routing with exclusions, admission, and the bookkeeping of
    /// what was tried and why it failed, so the final error says the truth.
    /// </summary>
    private sealed class Attempts
    {
        private readonly InferenceRouter _router;
        private readonly InferenceRequest _request;
        private ImmutableArray<string> _excluded = ImmutableArray<string>.Empty;
        private ImmutableArray<string>.Builder _attempted = ImmutableArray.CreateBuilder<string>();
        private BackendError? _lastError;
        private SlotGrant? _lastRejection;
        // A backend that answered this request with an error (a 500 with a body) whose fault is not
        // settled yet: the next attempt elsewhere tells whether the device or the request failed.
        private (SlotTicket Ticket, BackendError Error)? _suspect;
        private int _calls;
        private readonly long _started;

        public Attempts(InferenceRouter router, InferenceRequest request)
        {
            _router = router;
            _request = request;
            _started = router._time.GetTimestamp();
        }

        public async ValueTask<Admission> NextAsync(CancellationToken cancellationToken)
        {
            while (true)
            {
                if (_calls >= Math.Max(1, _router._routing.MaxAttempts))
                {
                    return new Admission(null, FinalError());
                }

                var outcome = await _router.RouteAsync(
                    new RouteRequest(_request.Model, _request.Hints)
                    {
                        ExcludedBackendIds = _excluded,
                        AcceptableTypes = AcceptableTypes(_request),
                        ExpectedTokens = _request.ExpectedTokens,
                        IsEmbedding = _request.IsEmbedding,
                    },
                    cancellationToken).ConfigureAwait(false);

                if (outcome.Failure is { } failure)
                {
                    if (_lastError is not null || _lastRejection is not null)
                    {
                        return new Admission(null, FinalError());
                    }

                    _router._observer?.OnRequestRejected(failure.Kind, _request.Hints.Priority);
                    return new Admission(null, InferenceError.FromRoute(failure));
                }

                var decision = outcome.Decision!;
                if (_attempted.Count > 0)
                {
                    decision = decision with { Reason = RouteReasons.Fallback, Attempted = _attempted.ToImmutable() };
                }

                if (!_router._backends.TryGetValue(decision.BackendId, out var handle))
                {
                    _excluded = _excluded.Add(decision.BackendId);
                    continue;
                }

                var backendRequest = handle.Client.Supports(_request.Native.Api) ? _request.Native
                    : _request.OpenAI is { } openAI && handle.Client.Supports(openAI.Api) ? openAI
                    : null;
                if (backendRequest is null)
                {
                    _excluded = _excluded.Add(decision.BackendId);
                    continue;
                }

                // Fleet: a peer queues the forwarded request at its priority, so the hints travel with it.
                if (handle.Client is Fleet.ForwardingClient)
                {
                    backendRequest = backendRequest with { Hints = _request.Hints };
                }

                if (handle.Slots.Current is not { } incarnation)
                {
                    _excluded = _excluded.Add(decision.BackendId);
                    continue; // Its actor has not started yet.
                }

                // Gate and actor of one incarnation: the ticket reports to the actor that admitted it.
                var ticket = new SlotTicket(incarnation.Actor, _request.Hints.Priority, _request.Model, _router._time.GetTimestamp());
                if (!incarnation.Gate.TryAdmit(ticket))
                {
                    // No free slot at hand (or a queue, or a backend not at full health): the actor decides.
                    incarnation.Actor.Tell(ticket, ActorRefs.NoSender);
                    var wait = QueueWait();
                    SlotGrant grant;
                    try
                    {
                        grant = await ticket.Task.WaitAsync(wait, _router._time, cancellationToken).ConfigureAwait(false);
                    }
                    catch (TimeoutException) when (ticket.TryWithdraw())
                    {
                        // Waited as long as this request may: the next device may serve it sooner. Not
                        // the backend's fault (its queue is long, or its work is slow), so no strike.
                        _lastRejection = new SlotGrant(ticket,
                            $"waited {wait.TotalSeconds:0.#} s in backend '{decision.BackendId}''s queue at priority {BackendActor.PriorityName(_request.Hints.Priority)} without a slot",
                            RetryAfter: wait, QueueFull: false);
                        _excluded = _excluded.Add(decision.BackendId);
                        continue;
                    }
                    catch (TimeoutException)
                    {
                        // The actor answered just as the wait ran out: take its answer.
                        grant = await ticket.Task.ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        // Frees the queue place, or the slot if the grant won the race.
                        ticket.Cancel();
                        throw;
                    }

                    if (!grant.IsGranted)
                    {
                        _lastRejection = grant;
                        _excluded = _excluded.Add(decision.BackendId);
                        continue;
                    }
                }

                _calls++;
                return new Admission((decision, handle, ticket, backendRequest), null);
            }
        }

        /// <summary>
        /// How long this request may wait in a backend's queue: what is left of its priority's bound
        /// (routing.max-queue-wait) and of its own latency budget. Both count from its arrival, across
        /// every device it tries, so a request is served or refused within its priority's bound.
        /// </summary>
        private TimeSpan QueueWait()
        {
            var elapsed = _router._time.GetElapsedTime(_started);
            var wait = _router._routing.QueueWaitFor(_request.Hints.Priority) - elapsed;
            if (_request.Hints.MaxLatencyMs is { } budget)
            {
                var left = TimeSpan.FromMilliseconds(budget) - elapsed;
                wait = left < wait ? left : wait;
            }

            return wait > TimeSpan.Zero ? wait : TimeSpan.FromMilliseconds(1);
        }

        /// <summary>Records a failed call. Returns the error to give the client, or null to try the next backend.</summary>
        /// <remarks>
        /// A device that answers with an error (a 500 with a body) is alive; the request may be
        /// what made it fail (Ollama answers some malformed requests that way). Such a failure is
        /// held, not counted against the device, until the next attempt settles it: the same answer
        /// from a second device, or a 4xx from it, means the request's fault (neither is counted,
        /// and no third device is tried); anything else, or no next attempt, counts it against the first
        /// (<see cref="Settle"/>). Without this, one client's bad request retried by its SDK could
        /// eject every backend.
        /// </remarks>
        public InferenceError? Failed(RoutingDecision decision, BackendHandle handle, SlotTicket ticket, BackendError error)
        {
            var outcome = error.Kind == BackendErrorKind.Preempted ? CallOutcome.Preempted
                : error.IsRetryable ? CallOutcome.BackendFailed
                : CallOutcome.ClientError;
            var released = outcome;
            var requestsFault = false;
            if (outcome == CallOutcome.BackendFailed && IsAnsweredError(error))
            {
                requestsFault = _suspect is { } suspect && SameAnswer(suspect.Error, error);
                if (requestsFault)
                {
                    _suspect = null;
                }
                else
                {
                    Settle();
                    _suspect = (ticket, error);
                }

                released = CallOutcome.ClientError;
            }
            else if (outcome == CallOutcome.ClientError)
            {
                // Another device calls the request itself wrong: the held 500 was most likely its doing too.
                _suspect = null;
            }
            else
            {
                Settle();
            }

            ticket.Release(new CallReport(released, _request.Model, null, 0, null) { Failure = error.Kind });
            _router.Observe(decision, _request, outcome, GenerationStats.Empty, _request.Native.Stream, _router._time.GetTimestamp());
            _attempted.Add(decision.BackendId);
            if (requestsFault)
            {
                var tried = string.Join(" and ", _attempted.TakeLast(2));
                return InferenceError.FromBackend(error with { Message = $"backends {tried} both answered this request with the same error, so the request is the likely cause: {error.BodyMessage() ?? error.Message}" })
                    with { Attempted = _attempted.ToImmutable() };
            }

            if (!error.IsRetryable)
            {
                return InferenceError.FromBackend(error) with { Attempted = _attempted.ToImmutable() };
            }

            _lastError = error with { Message = $"backend '{decision.BackendId}' failed: {error.Message}" };
            _excluded = _excluded.Add(decision.BackendId);
            return null;
        }

        /// <summary>Counts a held failure against its backend: nothing showed it was the request's.</summary>
        public void Settle()
        {
            if (_suspect is { } suspect)
            {
                _suspect = null;
                suspect.Ticket.Backend.Tell(CallFailureConfirmed.Instance, ActorRefs.NoSender);
            }
        }

        // A 500, with a body or without: the device is alive and answered, so the request may be the cause.
        private static bool IsAnsweredError(BackendError error) =>
            error is { Kind: BackendErrorKind.HttpStatus, StatusCode: 500 };

        private static bool SameAnswer(BackendError first, BackendError second) =>
            first.StatusCode == second.StatusCode && first.Body.Span.SequenceEqual(second.Body.Span);

        private InferenceError FinalError()
        {
            if (_lastError is { } error)
            {
                var tried = string.Join(", ", _attempted);
                return InferenceError.FromBackend(error with { Message = $"{error.Message} (tried: {tried})" }) with { Attempted = _attempted.ToImmutable() };
            }

            var rejection = _lastRejection!.Value;
            var kind = rejection.QueueFull ? RouteFailureKind.QueueFull : RouteFailureKind.NoHealthyBackend;
            return InferenceError.FromRoute(new RouteFailure(kind, rejection.RejectedReason!, rejection.RetryAfter));
        }

        private static ImmutableArray<string>? AcceptableTypes(InferenceRequest request) =>
            request.OpenAI is null && request.Native.Api is BackendApi.OllamaChat or BackendApi.OllamaGenerate or BackendApi.OllamaEmbed or BackendApi.OllamaEmbeddings
                ? OllamaOnly
                : null;

        private static readonly ImmutableArray<string> OllamaOnly = ["ollama"];
    }

    private readonly record struct Admission(
        (RoutingDecision Decision, BackendHandle Handle, SlotTicket Ticket, BackendRequest Request)? Slot,
        InferenceError? Error);
}
