using System.Text;
using Router.Actors.Config;
using Router.Actors.Config.Hocon;

namespace Router.Tests.Config;

/// <summary>Parses and resolves HOCON, and renders trees compactly so tables can state expected values.</summary>
internal static class HoconTesting
{
    public static HoconObject Resolve(string text, IReadOnlyDictionary<string, string>? environment = null, string origin = "test.conf", string? baseDirectory = null)
    {
        var root = HoconParser.Parse(text, origin, baseDirectory);
        var errors = new ConfigErrors();
        HoconResolver.Resolve(root, environment ?? new Dictionary<string, string>(), errors);
        errors.ThrowIfAny();
        return root;
    }

    /// <summary><c>{a:1,b:"x",c:[true,null]}</c>: strings quoted, other scalars as written.</summary>
    public static string Render(HoconValue value)
    {
        var text = new StringBuilder();
        Write(value);
        return text.ToString();

        void Write(HoconValue v)
        {
            switch (v)
            {
                case HoconObject obj:
                    text.Append('{');
                    var first = true;
                    foreach (var (key, child) in obj.Fields)
                    {
                        if (!first)
                        {
                            text.Append(',');
                        }

                        first = false;
                        text.Append(key).Append(':');
                        Write(child);
                    }

                    text.Append('}');
                    break;
                case HoconArray array:
                    text.Append('[');
                    for (var i = 0; i < array.Items.Count; i++)
                    {
                        if (i > 0)
                        {
                            text.Append(',');
                        }

                        Write(array.Items[i]);
                    }

                    text.Append(']');
                    break;
                case HoconScalar scalar:
                    text.Append(scalar.Describe());
                    break;
                default:
                    text.Append('?').Append(v.GetType().Name);
                    break;
            }
        }
    }

    public static HoconValue Get(HoconObject root, string dottedPath)
    {
        HoconValue current = root;
        foreach (var key in dottedPath.Split('.'))
        {
            Assert.True(((HoconObject)current).TryGet(key, out current), $"missing {key} of {dottedPath}");
        }

        return current;
    }

    public static ConfigException Fails(string text, IReadOnlyDictionary<string, string>? environment = null) =>
        Assert.Throws<ConfigException>(() => ConfigLoader.FromHoconText(text, "test.conf", environment ?? new Dictionary<string, string>()));

    public static ConfigException FailsToResolve(string text, IReadOnlyDictionary<string, string>? environment = null) =>
        Assert.Throws<ConfigException>(() => Resolve(text, environment));

    /// <summary>A directory under the system temp folder, deleted on dispose.</summary>
    public sealed class TempDirectory : IDisposable
    {
        public TempDirectory()
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "router-config-tests-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Path);
        }

        public string Path { get; }

        public string Write(string relativePath, string text)
        {
            var full = System.IO.Path.Combine(Path, relativePath);
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
            File.WriteAllText(full, text);
            return full;
        }

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
