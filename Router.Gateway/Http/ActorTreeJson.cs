using System.Text.Json;

namespace Router.Gateway.Http;

/// <summary>
/// How <c>/actors</c> writes the actor tree and the CLI reads it: one set of options on both
/// sides, so a field cannot be written under one name and looked for under another.
/// </summary>
internal static class ActorTreeJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = false,
    };
}
