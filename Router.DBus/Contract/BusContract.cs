using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Text;
using System.Xml.Linq;

namespace Router.DBus.Contract;

/// <summary>One property of an interface, as the introspection XML declares it.</summary>
/// <param name="Signature">Its D-Bus type, e.g. <c>s</c>, <c>as</c>, <c>a{sd}</c>.</param>
internal sealed record PropertyContract(string Name, string Signature, bool Writable);

/// <summary>One interface of the contract: its name, object path, members, and its XML for Introspect.</summary>
internal sealed class InterfaceContract
{
    public InterfaceContract(string name, string path, ReadOnlyMemory<byte> xml,
        FrozenDictionary<string, string> methodInSignatures, ImmutableArray<PropertyContract> properties, FrozenSet<string> signals)
    {
        Name = name;
        Path = path;
        Xml = xml;
        MethodInSignatures = methodInSignatures;
        PropertyList = properties;
        Properties = properties.ToFrozenDictionary(p => p.Name, StringComparer.Ordinal);
        Signals = signals;
    }

    /// <summary>e.g. <c>ie.fio.OllamaProxy.Efficiency</c>.</summary>
    public string Name { get; }
    /// <summary>e.g. <c>/ie/fio/OllamaProxy/Efficiency</c>.</summary>
    public string Path { get; }
    /// <summary>The <c>&lt;interface&gt;</c> element exactly as the contract file has it.</summary>
    public ReadOnlyMemory<byte> Xml { get; }
    /// <summary>Method name → the signature of its in arguments ("" for none).</summary>
    public FrozenDictionary<string, string> MethodInSignatures { get; }
    public FrozenDictionary<string, PropertyContract> Properties { get; }
    /// <summary>The properties in the file's order (GetAll answers in it).</summary>
    public ImmutableArray<PropertyContract> PropertyList { get; }
    public FrozenSet<string> Signals { get; }
}

/// <summary>
/// The D-Bus contract, read from <c>Interfaces/ie.fio.OllamaProxy.xml</c> embedded in this
/// assembly: the file scripts/install puts in share/dbus-1/interfaces and the GNOME extension builds
/// its proxies from. Introspect answers with its interface elements, and the member tables below
/// (which calls exist, their signatures, which properties are writable) come from it too, so the
/// exported objects cannot drift from the file.
/// </summary>
internal static class BusContract
{
    public const string BusName = "ie.fio.OllamaProxy";
    public const string RootPath = "/ie/fio/OllamaProxy";
    public const string ResourceName = "ie.fio.OllamaProxy.xml";

    public const string Efficiency = BusName + ".Efficiency";
    public const string Backends = BusName + ".Backends";
    public const string Routing = BusName + ".Routing";
    public const string Thermal = BusName + ".Thermal";
    public const string SystemState = BusName + ".SystemState";

    private static readonly Lazy<FrozenDictionary<string, InterfaceContract>> s_interfaces = new(Load);

    /// <summary>The text of the contract file.</summary>
    public static string Text { get; } = ReadResource();

    public static FrozenDictionary<string, InterfaceContract> Interfaces => s_interfaces.Value;

    public static InterfaceContract Get(string interfaceName) => Interfaces[interfaceName];

    /// <summary>The object path of an interface: the bus name's path plus the interface's last part.</summary>
    public static string PathOf(string interfaceName) => RootPath + "/" + interfaceName[(interfaceName.LastIndexOf('.') + 1)..];

    private static string ReadResource()
    {
        using var stream = typeof(BusContract).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The D-Bus contract {ResourceName} is missing from {typeof(BusContract).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private static FrozenDictionary<string, InterfaceContract> Load()
    {
        var document = XDocument.Parse(Text, LoadOptions.PreserveWhitespace);
        var result = new Dictionary<string, InterfaceContract>(StringComparer.Ordinal);
        foreach (var element in document.Root!.Elements("interface"))
        {
            var name = (string)element.Attribute("name")!;
            var methods = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var method in element.Elements("method"))
            {
                var signature = new StringBuilder();
                foreach (var arg in method.Elements("arg"))
                {
                    if ((string?)arg.Attribute("direction") is null or "in")
                    {
                        signature.Append((string)arg.Attribute("type")!);
                    }
                }

                methods[(string)method.Attribute("name")!] = signature.ToString();
            }

            var properties = ImmutableArray.CreateBuilder<PropertyContract>();
            foreach (var property in element.Elements("property"))
            {
                var propertyName = (string)property.Attribute("name")!;
                properties.Add(new PropertyContract(propertyName, (string)property.Attribute("type")!,
                    ((string)property.Attribute("access")!).Contains("write", StringComparison.Ordinal)));
            }

            var signals = element.Elements("signal").Select(s => (string)s.Attribute("name")!).ToFrozenSet(StringComparer.Ordinal);
            var xml = Encoding.UTF8.GetBytes(element.ToString(SaveOptions.DisableFormatting) + "\n");
            result[name] = new InterfaceContract(name, PathOf(name), xml,
                methods.ToFrozenDictionary(StringComparer.Ordinal), properties.ToImmutable(), signals);
        }

        return result.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
