using Tmds.DBus.Protocol;

namespace Router.DBus.Power;

/// <summary>
/// A live copy of one interface's properties on another service (UPower, power-profiles-daemon):
/// read once with GetAll, then kept current from its PropertiesChanged and from the service's
/// name coming and going. No polling. <see cref="Values"/> is null while the service is absent.
/// </summary>
internal sealed class RemoteProperties : IDisposable
{
    private const string BusService = "org.freedesktop.DBus";

    private readonly DBusConnection _connection;
    private readonly Action _changed;
    private readonly List<IDisposable> _watches = [];
    private Dictionary<string, VariantValue>? _values;

    public RemoteProperties(DBusConnection connection, string service, string path, string @interface, Action changed)
    {
        _connection = connection;
        Service = service;
        Path = path;
        Interface = @interface;
        _changed = changed;
    }

    public string Service { get; }
    public string Path { get; }
    public string Interface { get; }

    /// <summary>The properties as last read; null while the service is absent.</summary>
    public IReadOnlyDictionary<string, VariantValue>? Values => Volatile.Read(ref _values);

    public async Task StartAsync()
    {
        // Watch first, read second: a change between the two is then not lost.
        _watches.Add(await _connection.AddMatchAsync(
            new MatchRule { Type = MessageType.Signal, Sender = BusService, Interface = BusService, Member = "NameOwnerChanged", Arg0 = Service },
            static (message, _) =>
            {
                var reader = message.GetBodyReader();
                reader.ReadString();
                reader.ReadString();
                return reader.ReadString();
            },
            (Notification<string> notification) =>
            {
                if (notification.HasValue)
                {
                    _ = OnOwnerChangedAsync(notification.Value);
                }
            },
            emitOnCapturedContext: false).ConfigureAwait(false));
        _watches.Add(await _connection.WatchPropertiesChangedAsync(Service, Path, Interface,
            static (message, _) =>
            {
                var reader = message.GetBodyReader();
                reader.ReadString();
                var changed = reader.ReadDictionaryOfStringToVariantValue();
                var invalidated = reader.ReadArrayOfString();
                return (changed, invalidated);
            },
            (Notification<(Dictionary<string, VariantValue> Changed, string[] Invalidated)> notification) =>
            {
                if (notification.HasValue)
                {
                    Merge(notification.Value.Changed, notification.Value.Invalidated);
                }
            },
            ObserverFlags.None, emitOnCapturedContext: false, state: null).ConfigureAwait(false));
        await ReadAllAsync().ConfigureAwait(false);
    }

    private async Task OnOwnerChangedAsync(string newOwner)
    {
        if (newOwner.Length == 0)
        {
            Volatile.Write(ref _values, null);
            _changed();
            return;
        }

        await ReadAllAsync().ConfigureAwait(false);
    }

    /// <summary>Reads every property; the service being absent (or failing) reads as absent.</summary>
    private async Task ReadAllAsync()
    {
        Dictionary<string, VariantValue>? values;
        try
        {
            var writer = _connection.GetMessageWriter();
            MessageBuffer call;
            try
            {
                writer.WriteMethodCallHeader(destination: Service, path: Path, @interface: "org.freedesktop.DBus.Properties", member: "GetAll", signature: "s");
                writer.WriteString(Interface);
                call = writer.CreateMessage();
            }
            finally
            {
                writer.Dispose();
            }

            values = await _connection.CallMethodAsync(call, static (message, _) => message.GetBodyReader().ReadDictionaryOfStringToVariantValue()).ConfigureAwait(false);
        }
        catch (DBusErrorReplyException)
        {
            values = null;
        }
        catch (DBusConnectionException)
        {
            values = null;
        }

        Volatile.Write(ref _values, values);
        _changed();
    }

    private void Merge(Dictionary<string, VariantValue> changed, string[] invalidated)
    {
        var current = Volatile.Read(ref _values);
        if (current is null)
        {
            return;
        }

        var next = new Dictionary<string, VariantValue>(current, StringComparer.Ordinal);
        foreach (var (name, value) in changed)
        {
            next[name] = value;
        }

        foreach (var name in invalidated)
        {
            next.Remove(name);
        }

        Volatile.Write(ref _values, next);
        if (invalidated.Length > 0)
        {
            // Invalidated without a value: read them again.
            _ = ReadAllAsync();
            return;
        }

        _changed();
    }

    public void Dispose()
    {
        foreach (var watch in _watches)
        {
            watch.Dispose();
        }

        _watches.Clear();
    }
}
