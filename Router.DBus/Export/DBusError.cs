using Router.Actors.Routing;

namespace Router.DBus.Export;

/// <summary>An expected failure of a call, as the D-Bus error reply it becomes.</summary>
internal sealed record DBusError(string Name, string Message);

/// <summary>
/// Every error reply the exported objects send, in one place: the contract's own
/// (ie.fio.OllamaProxy.Error.*) and the standard ones for bad calls.
/// </summary>
internal static class DBusErrors
{
    public const string UnknownModeName = "ie.fio.OllamaProxy.Error.UnknownMode";
    public const string UnknownBackendName = "ie.fio.OllamaProxy.Error.UnknownBackend";
    public const string InvalidHintName = "ie.fio.OllamaProxy.Error.InvalidHint";
    public const string NoRouteName = "ie.fio.OllamaProxy.Error.NoRoute";
    public const string InvalidArgsName = "org.freedesktop.DBus.Error.InvalidArgs";
    public const string UnknownPropertyName = "org.freedesktop.DBus.Error.UnknownProperty";
    public const string PropertyReadOnlyName = "org.freedesktop.DBus.Error.PropertyReadOnly";
    public const string UnknownInterfaceName = "org.freedesktop.DBus.Error.UnknownInterface";
    public const string UnknownMethodName = "org.freedesktop.DBus.Error.UnknownMethod";
    public const string FailedName = "org.freedesktop.DBus.Error.Failed";

    public static DBusError UnknownMode(string given) =>
        new(UnknownModeName, $"'{given}' is not an efficiency mode; use one of {WireNames.ValidModes}");

    public static DBusError UnknownBackend(string given, IEnumerable<string> valid) =>
        new(UnknownBackendName, $"no backend '{given}'; the backends are {string.Join(", ", valid)}");

    public static DBusError InvalidHint(string hint, string problem) => new(InvalidHintName, $"hint '{hint}' {problem}");

    public static DBusError NoRoute(RouteFailure failure) => new(NoRouteName, failure.Message);

    public static DBusError WrongSignature(string member, string expected, string given) =>
        new(InvalidArgsName, $"{member} takes ({expected}), not ({given})");

    public static DBusError WrongPropertyType(string property, string expected, string given) =>
        new(InvalidArgsName, $"property {property} is of type {expected}, not {given}");

    public static DBusError UnknownProperty(string @interface, string property) =>
        new(UnknownPropertyName, $"{@interface} has no property '{property}'");

    public static DBusError PropertyReadOnly(string @interface, string property) =>
        new(PropertyReadOnlyName, $"property {property} of {@interface} is read-only");

    public static DBusError UnknownInterface(string path, string @interface) =>
        new(UnknownInterfaceName, $"object {path} has no interface '{@interface}'");

    public static DBusError UnknownMethod(string @interface, string member) =>
        new(UnknownMethodName, $"{@interface} has no method '{member}'");

    public static DBusError Failed(string what) => new(FailedName, what);
}
