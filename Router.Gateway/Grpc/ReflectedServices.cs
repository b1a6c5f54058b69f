using Google.Protobuf;
using Google.Protobuf.Reflection;
using ServiceDescriptor = Google.Protobuf.Reflection.ServiceDescriptor;
using Grpc.Reflection;

namespace Router.Gateway.Grpc;

/// <summary>
/// What server reflection (v1 and v1alpha, Grpc.Reflection) describes: every service the surface
/// maps. Grpc.HealthCheck compiled grpc.health.v1 from a file it calls "health.proto"; clients ask
/// for it by its standard name, "grpc/health/v1/health.proto" (and so do files that import it),
/// so reflection is given the same descriptor under that name.
/// </summary>
internal static class ReflectedServices
{
    public const string HealthFileName = "grpc/health/v1/health.proto";

    public static IReadOnlyList<ServiceDescriptor> All { get; } =
    [
        Contracts.Compute.ComputeService.Descriptor,
        Contracts.OllamaProxy.OllamaProxy.Descriptor,
        Contracts.Compute.EfficiencyService.Descriptor,
        HealthUnderStandardName(),
        global::Grpc.Reflection.V1.ServerReflection.Descriptor,
        global::Grpc.Reflection.V1Alpha.ServerReflection.Descriptor,
    ];

    public static ReflectionServiceImpl V1Alpha() => new(All);

    public static ReflectionV1ServiceImpl V1() => new(All);

    private static ServiceDescriptor HealthUnderStandardName()
    {
        var proto = FileDescriptorProto.Parser.ParseFrom(global::Grpc.Health.V1.HealthReflection.Descriptor.SerializedData);
        proto.Name = HealthFileName;
        // health.proto imports nothing, so it builds on its own.
        return FileDescriptor.BuildFromByteStrings([proto.ToByteString()])[0].Services[0];
    }
}
