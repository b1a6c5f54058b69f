using Akka.Actor;
using Akka.Streams;
using Microsoft.Extensions.DependencyInjection;
using Router.Actors.Config;

namespace Router.Tests.TestKit;

/// <summary>
/// For hosts that run surfaces over fakes: an actor system with the router's Akka settings (stream
/// buffers included) and its materializer, owned and disposed by the host's container.
/// </summary>
internal static class TestStreams
{
    public static IServiceCollection AddTestStreams(this IServiceCollection services) =>
        services
            .AddSingleton(_ => ActorSystem.Create("test-streams", ActorSystemConfig.Defaults))
            .AddSingleton(provider => Router.Actors.Inference.TokenStreams.CreateMaterializer(provider.GetRequiredService<ActorSystem>()));
}
