using System.Runtime.CompilerServices;

namespace Router.Tests.TestKit;

/// <summary>
/// Keeps every test off the desktop's real buses: a daemon started by a test (in-process or as a
/// child) would otherwise take ie.fio.OllamaProxy on the developer's session bus, or read their
/// UPower. Tests that want a bus start a private one and pass its address explicitly.
/// </summary>
internal static class TestBuses
{
    public const string Nowhere = "unix:path=/nonexistent/ollama-proxy-tests/bus";

    [ModuleInitializer]
    internal static void PointAtNowhere()
    {
        Environment.SetEnvironmentVariable("DBUS_SESSION_BUS_ADDRESS", Nowhere);
        Environment.SetEnvironmentVariable("DBUS_SYSTEM_BUS_ADDRESS", Nowhere);
    }
}
