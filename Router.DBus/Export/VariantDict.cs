using Tmds.DBus.Protocol;

namespace Router.DBus.Export;

/// <summary>Entries of an a{sv} answer, written between WriteDictionaryStart and WriteDictionaryEnd.</summary>
internal static class VariantDict
{
    public static void Entry(ref MessageWriter writer, string key, string value)
    {
        writer.WriteDictionaryEntryStart();
        writer.WriteString(key);
        writer.WriteVariantString(value);
    }

    public static void Entry(ref MessageWriter writer, string key, double value)
    {
        writer.WriteDictionaryEntryStart();
        writer.WriteString(key);
        writer.WriteVariantDouble(value);
    }

    public static void Entry(ref MessageWriter writer, string key, bool value)
    {
        writer.WriteDictionaryEntryStart();
        writer.WriteString(key);
        writer.WriteVariantBool(value);
    }

    public static void Entry(ref MessageWriter writer, string key, uint value)
    {
        writer.WriteDictionaryEntryStart();
        writer.WriteString(key);
        writer.WriteVariantUInt32(value);
    }

    public static void Entry(ref MessageWriter writer, string key, ulong value)
    {
        writer.WriteDictionaryEntryStart();
        writer.WriteString(key);
        writer.WriteVariantUInt64(value);
    }

    public static void Entry(ref MessageWriter writer, string key, DBusValue value)
    {
        writer.WriteDictionaryEntryStart();
        writer.WriteString(key);
        value.WriteVariant(ref writer);
    }
}
