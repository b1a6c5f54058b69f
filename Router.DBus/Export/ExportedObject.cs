using Microsoft.Extensions.Logging;
using Router.DBus.Contract;
using Tmds.DBus.Protocol;

namespace Router.DBus.Export;

/// <summary>
/// One exported object: its interface from the contract, plus Introspectable and Properties (Peer
/// is answered by the library). Checks every call against the contract before a subclass sees it:
/// an unknown interface, method or property, a wrong signature or a write to a read-only property
/// gets its standard error and changes nothing. Announces every property change in
/// PropertiesChanged by comparing what it last announced with what the properties read now.
/// </summary>
internal abstract partial class ExportedObject : IPathMethodHandler
{
    private const string PropertiesInterface = "org.freedesktop.DBus.Properties";

    private readonly Lock _announceLock = new();
    // Guarded by _announceLock: what PropertiesChanged last told the bus (or the values at connect).
    private readonly Dictionary<string, DBusValue> _announced = new(StringComparer.Ordinal);
    private readonly ILogger _logger;

    protected ExportedObject(string interfaceName, BusLink bus, ILogger logger)
    {
        Contract = BusContract.Get(interfaceName);
        Bus = bus;
        _logger = logger;
    }

    public InterfaceContract Contract { get; }

    protected BusLink Bus { get; }

    public string Path => Contract.Path;

    public bool HandlesChildPaths => false;

    /// <summary>The current value of one of the contract's properties.</summary>
    public abstract DBusValue GetProperty(string name);

    /// <summary>
    /// Handles a call of one of the contract's methods, its signature already checked. Replies on
    /// success and returns null; returns the error to reply with otherwise.
    /// </summary>
    protected abstract ValueTask<DBusError?> CallAsync(MethodContext context, string member, CancellationToken cancellationToken);

    /// <summary>Sets a writable property, its type already checked; returns the error, or null when set.</summary>
    protected virtual ValueTask<DBusError?> SetPropertyAsync(string name, VariantValue value, CancellationToken cancellationToken) =>
        ValueTask.FromResult<DBusError?>(DBusErrors.PropertyReadOnly(Contract.Name, name));

    public ValueTask HandleMethodAsync(MethodContext context)
    {
        try
        {
            if (context.IsDBusIntrospectRequest)
            {
                context.ReplyIntrospectXml([Contract.Xml, IntrospectionXml.DBusProperties]);
                return default;
            }

            var request = context.Request;
            var @interface = request.InterfaceAsString ?? "";
            var member = request.MemberAsString ?? "";
            var signature = request.SignatureAsString ?? "";
            if (context.IsPropertiesInterfaceRequest)
            {
                return HandlePropertiesCall(context, member, signature);
            }

            if (@interface.Length > 0 && @interface != Contract.Name)
            {
                Reply(context, @interface.StartsWith("org.freedesktop.DBus.", StringComparison.Ordinal)
                    ? DBusErrors.UnknownMethod(@interface, member)
                    : DBusErrors.UnknownInterface(Path, @interface));
                return default;
            }

            if (!Contract.MethodInSignatures.TryGetValue(member, out var expected))
            {
                Reply(context, DBusErrors.UnknownMethod(Contract.Name, member));
                return default;
            }

            if (signature != expected)
            {
                Reply(context, DBusErrors.WrongSignature(member, expected, signature));
                return default;
            }

            return RunAsync(context, member, static (self, context, member, ct) => self.CallAsync(context, member, ct));
        }
#pragma warning disable CA1031 // A handler that throws would make the library drop the whole connection.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            return Fail(context, exception);
        }
    }

    private ValueTask HandlePropertiesCall(MethodContext context, string member, string signature)
    {
        var reader = context.Request.GetBodyReader();
        switch (member, signature)
        {
            case ("Get", "ss"):
            {
                var property = FindProperty(context, reader.ReadString(), reader.ReadString());
                if (property is not null)
                {
                    var value = GetProperty(property.Name);
                    var writer = context.CreateReplyWriter("v");
                    try
                    {
                        value.WriteVariant(ref writer);
                        context.Reply(writer.CreateMessage());
                    }
                    finally
                    {
                        writer.Dispose();
                    }
                }

                return default;
            }

            case ("GetAll", "s"):
            {
                var @interface = reader.ReadString();
                if (@interface.Length > 0 && @interface != Contract.Name)
                {
                    Reply(context, DBusErrors.UnknownInterface(Path, @interface));
                    return default;
                }

                var writer = context.CreateReplyWriter("a{sv}");
                try
                {
                    var start = writer.WriteDictionaryStart();
                    foreach (var property in Contract.PropertyList)
                    {
                        writer.WriteDictionaryEntryStart();
                        writer.WriteString(property.Name);
                        GetProperty(property.Name).WriteVariant(ref writer);
                    }

                    writer.WriteDictionaryEnd(start);
                    context.Reply(writer.CreateMessage());
                }
                finally
                {
                    writer.Dispose();
                }

                return default;
            }

            case ("Set", "ssv"):
            {
                var property = FindProperty(context, reader.ReadString(), reader.ReadString());
                if (property is null)
                {
                    return default;
                }

                if (!property.Writable)
                {
                    Reply(context, DBusErrors.PropertyReadOnly(Contract.Name, property.Name));
                    return default;
                }

                var value = reader.ReadVariantValue();
                var given = SignatureOf(value);
                if (given != property.Signature)
                {
                    Reply(context, DBusErrors.WrongPropertyType(property.Name, property.Signature, given));
                    return default;
                }

                return RunAsync(context, property.Name, (self, context, name, ct) => AfterSet(context, self.SetPropertyAsync(name, value, ct)));
            }

            case ("Get" or "GetAll" or "Set", _):
                Reply(context, DBusErrors.WrongSignature(member, member switch { "Get" => "ss", "GetAll" => "s", _ => "ssv" }, signature));
                return default;
            default:
                Reply(context, DBusErrors.UnknownMethod(PropertiesInterface, member));
                return default;
        }

        static async ValueTask<DBusError?> AfterSet(MethodContext context, ValueTask<DBusError?> set)
        {
            var error = await set.ConfigureAwait(false);
            if (error is null)
            {
                ReplyEmpty(context);
            }

            return error;
        }
    }

    /// <summary>The property a Get or Set names; replies the error and returns null when there is none.</summary>
    private PropertyContract? FindProperty(MethodContext context, string @interface, string name)
    {
        if (@interface.Length > 0 && @interface != Contract.Name)
        {
            Reply(context, DBusErrors.UnknownInterface(Path, @interface));
            return null;
        }

        if (!Contract.Properties.TryGetValue(name, out var property))
        {
            Reply(context, DBusErrors.UnknownProperty(Contract.Name, name));
            return null;
        }

        return property;
    }

    /// <summary>
    /// Runs a call that may wait (an actor, the router) after this method returns, so the
    /// connection goes on reading other callers' messages meanwhile.
    /// </summary>
    private ValueTask RunAsync(MethodContext context, string member, Func<ExportedObject, MethodContext, string, CancellationToken, ValueTask<DBusError?>> call)
    {
        context.DisposesAsynchronously = true;
        _ = Run();
        return default;

        async Task Run()
        {
            try
            {
                var error = await call(this, context, member, context.RequestAborted).ConfigureAwait(false);
                if (error is not null)
                {
                    Reply(context, error);
                }
            }
#pragma warning disable CA1031 // Reported to the caller and logged; the connection stays up.
            catch (Exception exception)
#pragma warning restore CA1031
            {
                await Fail(context, exception).ConfigureAwait(false);
            }
            finally
            {
                context.Dispose();
            }
        }
    }

    private ValueTask Fail(MethodContext context, Exception exception)
    {
        Log.CallFailed(_logger, Contract.Name, context.Request.MemberAsString ?? "", exception);
        if (!context.ReplySent)
        {
            Reply(context, DBusErrors.Failed(exception.Message));
        }

        return default;
    }

    protected static void Reply(MethodContext context, DBusError error) => context.ReplyError(error.Name, error.Message);

    protected static void ReplyEmpty(MethodContext context)
    {
        var writer = context.CreateReplyWriter(null);
        try
        {
            context.Reply(writer.CreateMessage());
        }
        finally
        {
            writer.Dispose();
        }
    }

    /// <summary>Replies with a body written by <paramref name="body"/>.</summary>
    protected static void Reply(MethodContext context, string signature, BodyWriter body)
    {
        var writer = context.CreateReplyWriter(signature);
        try
        {
            body(ref writer);
            context.Reply(writer.CreateMessage());
        }
        finally
        {
            writer.Dispose();
        }
    }

    /// <summary>
    /// Takes the current values as what the bus knows, without announcing them: on connecting,
    /// when clients read everything afresh anyway.
    /// </summary>
    public void ResetAnnounced()
    {
        lock (_announceLock)
        {
            foreach (var property in Contract.PropertyList)
            {
                _announced[property.Name] = GetProperty(property.Name);
            }
        }
    }

    /// <summary>
    /// Sends PropertiesChanged with every property whose value differs from what was last
    /// announced (optionally only those <paramref name="include"/> accepts). Under one lock, so
    /// announcements from concurrent updates go out in the order of the values they carry.
    /// </summary>
    protected void AnnounceChanges(Func<string, bool>? include = null)
    {
        lock (_announceLock)
        {
            List<KeyValuePair<string, DBusValue>>? changed = null;
            foreach (var property in Contract.PropertyList)
            {
                if (include is not null && !include(property.Name))
                {
                    continue;
                }

                var value = GetProperty(property.Name);
                if (_announced.TryGetValue(property.Name, out var before) && before == value)
                {
                    continue;
                }

                _announced[property.Name] = value;
                (changed ??= []).Add(new(property.Name, value));
            }

            if (changed is null)
            {
                return;
            }

            var name = Contract.Name;
            Bus.EmitSignal(Path, PropertiesInterface, "PropertiesChanged", "sa{sv}as", (ref MessageWriter writer) =>
            {
                writer.WriteString(name);
                var start = writer.WriteDictionaryStart();
                foreach (var (property, value) in changed)
                {
                    writer.WriteDictionaryEntryStart();
                    writer.WriteString(property);
                    value.WriteVariant(ref writer);
                }

                writer.WriteDictionaryEnd(start);
                writer.WriteArray(Array.Empty<string>());
            });
        }
    }

    /// <summary>Sends one of the contract's signals from this object.</summary>
    protected void EmitSignal(string member, string signature, BodyWriter body)
    {
        System.Diagnostics.Debug.Assert(Contract.Signals.Contains(member), $"{member} is not a signal of {Contract.Name}");
        Bus.EmitSignal(Path, Contract.Name, member, signature, body);
    }

    private static string SignatureOf(VariantValue value) => value.Type switch
    {
        VariantValueType.String => "s",
        VariantValueType.Bool => "b",
        VariantValueType.Double => "d",
        VariantValueType.UInt32 => "u",
        VariantValueType.Int32 => "i",
        VariantValueType.UInt64 => "t",
        VariantValueType.Int64 => "x",
        VariantValueType.Byte => "y",
        VariantValueType.Int16 => "n",
        VariantValueType.UInt16 => "q",
        VariantValueType.ObjectPath => "o",
        VariantValueType.Signature => "g",
        VariantValueType.Array => "a…",
        VariantValueType.Dictionary => "a{…}",
        VariantValueType.Struct => "(…)",
        _ => value.Type.ToString(),
    };
}
