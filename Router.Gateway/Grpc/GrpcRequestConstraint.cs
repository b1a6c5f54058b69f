using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Router.Gateway.Grpc;

/// <summary>
/// Matches gRPC requests only (content-type application/grpc…), so the catch-all that answers
/// unknown gRPC methods with UNIMPLEMENTED never takes an HTTP request that shares the host: a
/// POST to a GET-only HTTP route still gets its 405.
/// </summary>
internal sealed class GrpcRequestConstraint : IRouteConstraint
{
    public const string Name = "grpcrequest";

    public bool Match(HttpContext? httpContext, IRouter? route, string routeKey, RouteValueDictionary values, RouteDirection routeDirection) =>
        httpContext?.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true;
}
