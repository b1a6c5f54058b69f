using System.Collections.Immutable;
using Akka.Actor;
using Router.Actors.Routing;

namespace Router.Actors.Backends;

// Health state machine:
//   Unknown ──probe ok──► Healthy ──probe fails──► Unhealthy ──probe ok──► Healthy
//   any serving state ──N consecutive failed requests──► Ejected (period doubles per ejection,
//       halves again per ejection-decay without one; refused past the panic threshold)
//   Ejected ──period over──► Degraded (half-open: one trial request, and a probe)
//   Degraded ──trial or probe ok──► Healthy;  ──trial fails──► Ejected (longer)
// Besides: a call that passes its first-byte timeout holds the queue until a probe, sent at
// once, answers (ok: serve again; failed: Unhealthy, the queue falls back elsewhere).
public sealed partial class BackendActor
{
    private const double MetricsSmoothing = 0.2;
    private const double ErrorRateSmoothing = 0.1;

    // Timer keys: starting a timer with a key replaces the pending one.
    private const string ProbeTimer = "probe";
    private const string ModelsTimer = "models";
    private const string EjectionTimer = "ejection";
    private const string EjectionDecayTimer = "ejection-decay";

    private long _probeGeneration;
    private bool _probeInFlight;
    private bool _modelsInFlight;
    private int _consecutiveProbeFailures;
    private int _consecutiveFailures;
    private int _ejections;
    private bool _heldForProbe;

    private void StartProbe()
    {
        if (_probeInFlight)
        {
            return;
        }

        _probeInFlight = true;
        var generation = ++_probeGeneration;
        var self = Self;
        var client = _client;
        var timeout = _config.Health.Timeout;
        var time = _time;
        _ = RunProbe();

        async Task RunProbe()
        {
            var started = time.GetTimestamp();
            BackendError? error;
            try
            {
                using var cts = new CancellationTokenSource(timeout, time);
                var result = await client.ProbeAsync(cts.Token).ConfigureAwait(false);
                error = result.IsOk ? null : result.Error;
            }
            catch (OperationCanceledException)
            {
                error = new BackendError(BackendErrorKind.Timeout, $"health probe timed out after {timeout.TotalSeconds:0.#} s");
            }
#pragma warning disable CA1031 // A probe failure of any kind is a health fact, reported back as a value.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                error = new BackendError(BackendErrorKind.ConnectFailed, ex.Message);
            }

            self.Tell(new ProbeCompleted(generation, error, time.GetElapsedTime(started)));
        }
    }

    /// <summary>A call passed its first-byte timeout: probe now, and serve no queued request until the probe answers.</summary>
    private void HoldQueueForProbe()
    {
        _heldForProbe = true;
        StartProbe(); // Unless one is out already: it answers within the probe timeout either way.
    }

    private void OnProbeCompleted(ProbeCompleted message)
    {
        _probeInFlight = false;
        var wasHeld = _heldForProbe;
        _heldForProbe = false;
        _snapshot = _snapshot with { LastCheck = _time.GetUtcNow() };
        if (message.Error is null)
        {
            _consecutiveProbeFailures = 0;
            switch (_snapshot.Health)
            {
                case BackendHealth.Unknown or BackendHealth.Unhealthy or BackendHealth.Degraded:
                    _consecutiveFailures = 0;
                    SetHealth(BackendHealth.Healthy, "health probe succeeded");
                    if (!_snapshot.ModelsKnown || _snapshot.Models.IsEmpty)
                    {
                        StartModelRefresh();
                    }

                    GrantWaiting();
                    break;
                case BackendHealth.Ejected:
                    break; // Ejection runs its course; the half-open trial decides.
                case BackendHealth.Healthy when wasHeld:
                    GrantWaiting(); // The device answers after all: the queue it held moves on.
                    break;
            }

            ScheduleProbe(_config.Health.Interval);
        }
        else
        {
            _consecutiveProbeFailures++;
            if (_snapshot.Health != BackendHealth.Ejected)
            {
                SetHealth(BackendHealth.Unhealthy, "health probe failed: " + message.Error.Message);
                GrantWaiting(); // Rejects the waiting requests so they fall back elsewhere.
            }

            // Sooner while unhealthy, backing off towards the normal interval.
            var backoff = _config.Health.UnhealthyInterval.Ticks << Math.Min(_consecutiveProbeFailures - 1, 16);
            ScheduleProbe(TimeSpan.FromTicks(Math.Min(backoff, _config.Health.Interval.Ticks)));
        }

        Changed();
    }

    private void ScheduleProbe(TimeSpan delay) => Timers.StartSingleTimer(ProbeTimer, ProbeNow.Instance, delay);

    private void StartModelRefresh()
    {
        if (_modelsInFlight)
        {
            return;
        }

        _modelsInFlight = true;
        var self = Self;
        var client = _client;
        var timeout = _config.Health.Timeout;
        var time = _time;
        _ = Refresh();

        async Task Refresh()
        {
            try
            {
                using var cts = new CancellationTokenSource(timeout, time);
                var result = await client.ListModelsAsync(cts.Token).ConfigureAwait(false);
                self.Tell(result.IsOk ? new ModelsRefreshed(result.Value, null) : new ModelsRefreshed([], result.Error));
            }
            catch (OperationCanceledException)
            {
                self.Tell(new ModelsRefreshed([], new BackendError(BackendErrorKind.Timeout, "model list timed out")));
            }
#pragma warning disable CA1031 // Reported back as a value.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                self.Tell(new ModelsRefreshed([], new BackendError(BackendErrorKind.ConnectFailed, ex.Message)));
            }
        }
    }

    private void OnModelsRefreshed(ModelsRefreshed message)
    {
        _modelsInFlight = false;
        if (message.Error is null)
        {
            var builder = ImmutableHashSet.CreateBuilder<string>(StringComparer.Ordinal);
            foreach (var model in message.Models)
            {
                builder.Add(model.Name);
                // Ollama answers to "llama3.2" for "llama3.2:latest".
                if (model.Name.EndsWith(":latest", StringComparison.Ordinal))
                {
                    builder.Add(model.Name[..^":latest".Length]);
                }
            }

            _snapshot = _snapshot with { Models = builder.ToImmutable(), ModelsKnown = true };
            Changed();
        }

        var delay = message.Error is null ? _config.Health.ModelRefreshInterval : _config.Health.UnhealthyInterval;
        Timers.StartSingleTimer(ModelsTimer, RefreshModels.Instance, delay);
    }

    private void OnEjectionExpired()
    {
        if (_snapshot.Health != BackendHealth.Ejected)
        {
            return;
        }

        SetHealth(BackendHealth.Degraded, "ejection period over: half-open, one trial request");
        StartProbe();
        GrantWaiting();
        Changed();
    }

    private void Eject(string reason)
    {
        if (!_ejectionGuard.TryEject(_config.Id, out var refusal))
        {
            _consecutiveFailures = 0;
            _snapshot = _snapshot with { StatusMessage = $"{reason}; {refusal}" };
            return;
        }

        Timers.Cancel(EjectionDecayTimer);
        _ejections++;
        var period = TimeSpan.FromTicks(Math.Min(
            _config.Health.BaseEjection.Ticks << Math.Min(_ejections - 1, 16),
            _config.Health.MaxEjection.Ticks));
        SetHealth(BackendHealth.Ejected, $"{reason}; ejected for {period.TotalSeconds:0.#} s");
        Timers.StartSingleTimer(EjectionTimer, EjectionExpired.Instance, period);
        GrantWaiting(); // Rejects the waiting requests so they fall back elsewhere.
    }

    private void RecordOutcome(CallReport report)
    {
        var failed = report.Outcome == CallOutcome.BackendFailed;
        if (report.Outcome != CallOutcome.Cancelled)
        {
            _snapshot = _snapshot with
            {
                RequestsTotal = _snapshot.RequestsTotal + 1,
                FailuresTotal = _snapshot.FailuresTotal + (failed ? 1 : 0),
                ErrorRate = (_snapshot.ErrorRate * (1 - ErrorRateSmoothing)) + (failed ? ErrorRateSmoothing : 0),
            };
        }

        if (failed)
        {
            CountFailure();
            return;
        }

        if (report.Outcome == CallOutcome.Succeeded)
        {
            _consecutiveFailures = 0;
            if (_snapshot.Health is BackendHealth.Degraded or BackendHealth.Unknown)
            {
                SetHealth(BackendHealth.Healthy, "request succeeded");
            }

            if (report.Model is { } model && report.Tokens > 0 && report.GenerationSeconds is > 0)
            {
                RecordThroughput(model, report.Tokens / report.GenerationSeconds.Value);
            }
        }
    }

    private void CountFailure()
    {
        _consecutiveFailures++;
        if (_snapshot.Health == BackendHealth.Degraded)
        {
            Eject("half-open trial request failed");
        }
        else if (_consecutiveFailures >= _config.Health.EjectAfterFailures && _snapshot.Health != BackendHealth.Ejected)
        {
            Eject($"{_consecutiveFailures} consecutive requests failed");
        }
    }

    /// <summary>
    /// A call released as not this backend's fault turned out to be (see <see cref="CallFailureConfirmed"/>):
    /// it was counted as a request already, so it becomes a failure now (the error rate takes the
    /// sample it recorded as 0 as a 1).
    /// </summary>
    private void ConfirmFailure()
    {
        _snapshot = _snapshot with
        {
            FailuresTotal = _snapshot.FailuresTotal + 1,
            ErrorRate = Math.Min(1, _snapshot.ErrorRate + ErrorRateSmoothing),
        };
        CountFailure();
    }

    private void RecordTimeToFirstToken(string model, double ms)
    {
        var metrics = _snapshot.MetricsByModel.GetValueOrDefault(model);
        var updated = metrics is null
            ? new ModelMetrics(ms, 0, 1)
            : metrics with
            {
                TimeToFirstTokenMs = Smooth(metrics.TimeToFirstTokenMs, ms, metrics.Samples),
                Samples = metrics.Samples + 1,
            };
        _snapshot = _snapshot with { MetricsByModel = _snapshot.MetricsByModel.SetItem(model, updated) };
    }

    private void RecordThroughput(string model, double tokensPerSecond)
    {
        var metrics = _snapshot.MetricsByModel.GetValueOrDefault(model) ?? new ModelMetrics(_config.AvgLatencyMs, 0, 0);
        var updated = metrics with
        {
            TokensPerSecond = metrics.TokensPerSecond <= 0 ? tokensPerSecond : Smooth(metrics.TokensPerSecond, tokensPerSecond, metrics.Samples),
        };
        _snapshot = _snapshot with { MetricsByModel = _snapshot.MetricsByModel.SetItem(model, updated) };
    }

    // A plain mean for the first samples, then an exponentially weighted one.
    private static double Smooth(double current, double sample, int samples) =>
        samples < 1 / MetricsSmoothing
            ? current + ((sample - current) / (samples + 1))
            : current + (MetricsSmoothing * (sample - current));

    private void SetHealth(BackendHealth health, string reason)
    {
        var from = _snapshot.Health;
        _snapshot = _snapshot with { Health = health, StatusMessage = reason };
        if (from != health)
        {
            _ejectionGuard.Report(_config.Id, health);
            if (from is BackendHealth.Ejected or BackendHealth.Degraded && health == BackendHealth.Healthy && _ejections > 0)
            {
                // Back in service: each quiet stretch from now on undoes one doubling of the ejection period.
                Timers.StartPeriodicTimer(EjectionDecayTimer, EjectionDecayed.Instance, _config.Health.EjectionDecay);
            }

            Context.System.EventStream.Publish(new BackendHealthChanged(_config.Id, from, health, reason));
        }
    }

    private void OnEjectionDecayed()
    {
        if (_snapshot.Health == BackendHealth.Ejected)
        {
            return;
        }

        _ejections = Math.Max(0, _ejections - 1);
        if (_ejections == 0)
        {
            Timers.Cancel(EjectionDecayTimer);
        }
    }
}
