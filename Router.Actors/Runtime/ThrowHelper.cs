using System.Diagnostics.CodeAnalysis;

namespace Router.Actors.Runtime;

/// <summary>Throws kept out of hot methods so they stay small enough to inline.</summary>
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowMessageNull() => throw new ArgumentNullException("message");
}
