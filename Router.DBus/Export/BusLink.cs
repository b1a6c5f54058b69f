using Tmds.DBus.Protocol;

namespace Router.DBus.Export;

/// <summary>Writes the body of a message; takes the writer by ref (a copy of a MessageWriter writes a corrupt message).</summary>
internal delegate void BodyWriter(ref MessageWriter writer);

/// <summary>
/// The exported objects' way out: the session-bus connection while there is one. Signals sent
/// while it is down are dropped; a client that reconnects reads the properties afresh.
/// </summary>
internal sealed class BusLink
{
    private DBusConnection? _connection;

    public DBusConnection? Connection
    {
        get => Volatile.Read(ref _connection);
        set => Volatile.Write(ref _connection, value);
    }

    /// <summary>Sends a signal from <paramref name="path"/>; false when there is no connection to send it on.</summary>
    public bool EmitSignal(string path, string @interface, string member, string? signature, BodyWriter? body)
    {
        if (Connection is not { } connection)
        {
            return false;
        }

        MessageWriter writer;
        try
        {
            writer = connection.GetMessageWriter();
        }
        catch (ObjectDisposedException)
        {
            return false;
        }

        try
        {
            writer.WriteSignalHeader(destination: null, path: path, @interface: @interface, member: member, signature: signature);
            body?.Invoke(ref writer);
            return connection.TrySendMessage(writer.CreateMessage());
        }
        finally
        {
            writer.Dispose();
        }
    }
}
