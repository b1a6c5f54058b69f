using System.Diagnostics;

namespace Router.Gateway.Simulation;

internal readonly record struct ThermalReading(double TemperatureC, double PowerWatts, double EnergyWh);

/// <summary>
/// Power and heat of a simulated device. Power is the profile's busy draw while any request runs, its
/// idle draw otherwise; the temperature follows a first-order lag towards ambient plus the load's rise.
/// Time is simulated time: real elapsed time divided by the time scale (at scale 0, real time).
/// </summary>
internal sealed class ThermalModel
{
    private readonly Lock _lock = new();
    private readonly DeviceProfile _profile;
    private readonly double _speedUp;
    private readonly TimeProvider _time;
    private long _lastTimestamp;
    private double _temperatureC;
    private double _energyJoules;
    private int _busy;

    public ThermalModel(DeviceProfile profile, double timeScale, TimeProvider time)
    {
        _profile = profile;
        _speedUp = timeScale > 0 ? 1 / timeScale : 1;
        _time = time;
        _lastTimestamp = time.GetTimestamp();
        _temperatureC = profile.AmbientC;
    }

    public void Enter()
    {
        lock (_lock)
        {
            Advance();
            _busy++;
        }
    }

    public void Exit()
    {
        lock (_lock)
        {
            Advance();
            _busy--;
            AssertInvariants();
        }
    }

    public void SetTemperature(double celsius)
    {
        lock (_lock)
        {
            Advance();
            _temperatureC = celsius;
        }
    }

    public ThermalReading Read()
    {
        lock (_lock)
        {
            Advance();
            return new ThermalReading(Math.Round(_temperatureC, 2), Power(), _energyJoules / 3600);
        }
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(_lock.IsHeldByCurrentThread, "Callers hold the lock.");
        Debug.Assert(_busy >= 0, "Every Exit follows an Enter.");
        Debug.Assert(_energyJoules >= 0 && double.IsFinite(_temperatureC), "Energy only grows; the temperature stays finite.");
    }

    private double Power() => _busy > 0 ? _profile.PowerWatts : _profile.IdlePowerWatts;

    // Integrates from the last update to now at the current load. Caller holds the lock.
    private void Advance()
    {
        long now = _time.GetTimestamp();
        double seconds = _time.GetElapsedTime(_lastTimestamp, now).TotalSeconds * _speedUp;
        _lastTimestamp = now;
        if (seconds <= 0)
        {
            return;
        }

        _energyJoules += Power() * seconds;
        double target = _profile.AmbientC + (_busy > 0 ? _profile.MaxTemperatureRiseC : 0);
        double tau = Math.Max(_profile.ThermalTimeConstant.TotalSeconds, 0.001);
        _temperatureC += (target - _temperatureC) * (1 - Math.Exp(-seconds / tau));
        AssertInvariants();
    }
}
