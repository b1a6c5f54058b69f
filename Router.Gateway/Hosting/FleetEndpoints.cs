using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Router.Actors.Fleet;
using Router.Actors.Inference;
using Router.Gateway.Http;

namespace Router.Gateway.Hosting;

/// <summary><c>GET /cluster</c>: the fleet's members as this node sees them (state, reachability, round trip, backends).</summary>
internal static class FleetEndpoints
{
    public static async Task ClusterAsync(HttpContext context, RouterRuntime runtime)
    {
        var status = await FleetNode.GetStatusAsync(runtime.System, context.RequestAborted).ConfigureAwait(false);
        await JsonAnswer.WriteAsync(context, StatusCodes.Status200OK, status, static (writer, fleet) =>
        {
            writer.WriteStartObject();
            writer.WriteBoolean("enabled", fleet is not null);
            if (fleet is null)
            {
                writer.WriteNull("node");
                writer.WriteString("message", "The fleet is off: set cluster.enabled = true (with a shared secret) to join routers of several machines.");
                writer.WriteStartArray("members");
                writer.WriteEndArray();
                writer.WriteEndObject();
                return;
            }

            writer.WriteString("node", fleet.Node);
            Nullable(writer, "address", fleet.Address);
            writer.WriteString("state", fleet.State);
            Nullable(writer, "message", fleet.Note);
            writer.WriteStartArray("members");
            foreach (var member in fleet.Members)
            {
                WriteMember(writer, member);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }).ConfigureAwait(false);
    }

    private static void WriteMember(Utf8JsonWriter writer, FleetMemberStatus member)
    {
        writer.WriteStartObject();
        Nullable(writer, "node", member.Node);
        writer.WriteString("address", member.Address);
        writer.WriteString("state", member.State);
        writer.WriteBoolean("reachable", member.Reachable);
        writer.WriteBoolean("self", member.Self);
        JsonAnswer.WriteNumberOrNull(writer, "round_trip_ms", member.RoundTripMs is { } rtt ? Math.Round(rtt, 3) : null);
        writer.WriteNumber("backends", member.Backends);
        Nullable(writer, "http_endpoint", member.HttpEndpoint);
        if (member.Power is { } power)
        {
            writer.WriteStartObject("power");
            writer.WriteBoolean("on_ac_power", power.OnAcPower);
            JsonAnswer.WriteNumberOrNull(writer, "battery_percent", power.BatteryPercent);
            writer.WriteBoolean("hot", power.Hot);
            writer.WriteEndObject();
        }
        else
        {
            writer.WriteNull("power");
        }

        Nullable(writer, "message", member.Note);
        writer.WriteEndObject();
    }

    private static void Nullable(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is null) writer.WriteNull(name); else writer.WriteString(name, value);
    }
}
