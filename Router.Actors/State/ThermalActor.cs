using System.Collections.Immutable;
using Router.Actors.Config;

namespace Router.Actors.State;

/// <summary>
/// Samples temperatures, fans and throttling, and publishes a <see cref="ThermalEvent"/> whenever a
/// device crosses its configured hot or limit temperature, or throttling starts or stops.
/// </summary>
public sealed class ThermalActor : SamplingActor<ThermalReading>
{
    public const string Name = "thermal";

    private readonly IThermalSource _source;
    private readonly ImmutableDictionary<string, SensorConfig> _sensors;

    public ThermalActor(IThermalSource source, ImmutableDictionary<string, SensorConfig> sensorsByBackend, TimeSpan interval, TimeProvider time)
        : base(interval, ThermalReading.Unknown(time.GetUtcNow()))
    {
        _source = source;
        _sensors = sensorsByBackend;
    }

    protected override ValueTask<ThermalReading> ReadAsync(CancellationToken cancellationToken) => _source.ReadThermalAsync(cancellationToken);

    protected override bool SameAs(ThermalReading previous, ThermalReading next) => previous.SameAs(next);

    protected override void OnChanged(ThermalReading previous, ThermalReading next)
    {
        var events = Context.System.EventStream;
        if (previous.Throttling != next.Throttling)
        {
            events.Publish(new ThermalEvent(
                next.Throttling ? "throttling-started" : "throttling-stopped", null, next.MaxTemperatureC,
                next.Throttling ? "the CPU started thermal throttling" : "the CPU stopped thermal throttling", next.At));
        }

        foreach (var (backend, temperature) in next.TemperatureByBackend)
        {
            var sensor = _sensors.GetValueOrDefault(backend) ?? new SensorConfig();
            var before = Band(previous.TemperatureByBackend.TryGetValue(backend, out var t) ? t : null, sensor);
            var after = Band(temperature, sensor);
            if (before == after)
            {
                continue;
            }

            var (kind, message) = after switch
            {
                2 => ("over-limit", $"{backend} at {temperature:0.#} °C is above its limit of {sensor.LimitC:0.#} °C: excluded from routing"),
                1 when before < 1 => ("hot", $"{backend} at {temperature:0.#} °C is above {sensor.HotC:0.#} °C: penalised in routing"),
                1 => ("cooled", $"{backend} at {temperature:0.#} °C is back below its limit of {sensor.LimitC:0.#} °C"),
                _ => ("cooled", $"{backend} at {temperature:0.#} °C is back below {sensor.HotC:0.#} °C"),
            };
            events.Publish(new ThermalEvent(kind, backend, temperature, message, next.At));
        }
    }

    private static int Band(double? temperature, SensorConfig sensor) =>
        temperature is not { } t ? 0 : t > sensor.LimitC ? 2 : t > sensor.HotC ? 1 : 0;
}
