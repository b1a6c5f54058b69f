using Akka.Actor;
using Akka.Streams;

namespace Router.Actors.Inference;

/// <summary>How the router materializes its token streams.</summary>
public static class TokenStreams
{
    /// <summary>
    /// A materializer whose stream actors run on the <see cref="InlineDispatcher"/>: a token goes
    /// from the backend's socket to the client's without a thread switch.
    /// </summary>
    public static IMaterializer CreateMaterializer(ActorSystem system)
    {
        ArgumentNullException.ThrowIfNull(system);
        var settings = ActorMaterializerSettings.Create(system).WithDispatcher(InlineDispatcher.ConfigPath);
        return system.Materializer(settings, namePrefix: "token-stream");
    }
}
