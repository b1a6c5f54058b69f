using Router.Actors.Routing;
using Tmds.DBus.Protocol;

namespace Router.DBus.Export;

/// <summary>
/// Reads the hints of Routing.Explain (a{sv}) into the router's <see cref="RoutingHints"/>: the same
/// hints as the HTTP headers, under the contract's names. A wrong name, type or value is an
/// InvalidHint error naming it; nothing is guessed.
/// </summary>
internal static class ExplainHints
{
    public const string Known = "model, target, latency_critical, power_efficient, max_latency_ms, max_power_watts, priority";

    private static readonly (string Id, Priority Priority)[] Priorities =
    [
        ("best-effort", Priority.BestEffort), ("normal", Priority.Normal), ("high", Priority.High), ("critical", Priority.Critical),
    ];

    public readonly record struct Parsed(string? Model, RoutingHints Hints, DBusError? Error);

    public static Parsed Parse(Dictionary<string, VariantValue> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        string? model = null;
        var hints = RoutingHints.Default;
        foreach (var (name, value) in values)
        {
            switch (name)
            {
                case "model" when value.Type == VariantValueType.String:
                    model = value.GetString().Trim() is { Length: > 0 } m ? m : null;
                    break;
                case "target" when value.Type == VariantValueType.String:
                    hints = hints with { Target = value.GetString().Trim() is { Length: > 0 } t ? t : null };
                    break;
                case "latency_critical" when value.Type == VariantValueType.Bool:
                    hints = hints with { LatencyCritical = value.GetBool() };
                    break;
                case "power_efficient" when value.Type == VariantValueType.Bool:
                    hints = hints with { PreferPowerEfficiency = value.GetBool() };
                    break;
                case "max_latency_ms" when value.Type is VariantValueType.UInt32 or VariantValueType.Double:
                {
                    var ms = value.Type == VariantValueType.UInt32 ? value.GetUInt32() : value.GetDouble();
                    if (!(ms >= 1 && ms <= int.MaxValue))
                    {
                        return Fail("max_latency_ms", "must be a positive number of milliseconds");
                    }

                    hints = hints with { MaxLatencyMs = (int)Math.Ceiling(ms) };
                    break;
                }

                case "max_power_watts" when value.Type == VariantValueType.Double:
                {
                    var watts = value.GetDouble();
                    if (!(double.IsFinite(watts) && watts > 0))
                    {
                        return Fail("max_power_watts", "must be a positive number of watts");
                    }

                    hints = hints with { MaxPowerWatts = watts };
                    break;
                }

                case "priority" when value.Type == VariantValueType.String:
                {
                    var id = value.GetString();
                    var match = Array.FindIndex(Priorities, p => p.Id == id);
                    if (match < 0)
                    {
                        return Fail("priority", $"must be one of {string.Join(", ", Priorities.Select(static p => p.Id))}, not '{id}'");
                    }

                    hints = hints with { Priority = Priorities[match].Priority };
                    break;
                }

                case "model" or "target" or "priority":
                    return Fail(name, "must be a string (s)");
                case "latency_critical" or "power_efficient":
                    return Fail(name, "must be a boolean (b)");
                case "max_latency_ms":
                    return Fail(name, "must be a number of milliseconds (u or d)");
                case "max_power_watts":
                    return Fail(name, "must be a number of watts (d)");
                default:
                    return Fail(name, "is not a hint; the hints are " + Known);
            }
        }

        return new Parsed(model, hints, null);
    }

    private static Parsed Fail(string hint, string problem) => new(null, RoutingHints.Default, DBusErrors.InvalidHint(hint, problem));
}
