using Router.Actors.Config;
using Router.Actors.Config.Hocon;

namespace Router.Tests.Config;

public sealed class HoconIncludeTests : IDisposable
{
    private readonly HoconTesting.TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Include_RelativeFile_MergesItsFieldsInPlace()
    {
        _dir.Write("conf/common.conf", "a = 1\nb { x = 1 }");
        var main = _dir.Write("conf/main.conf", "include \"common.conf\"\nb { y = 2 }\nc = ${a}");

        var root = Resolve(main);

        Assert.Equal("{a:1,b:{x:1,y:2},c:1}", HoconTesting.Render(root));
    }

    [Fact]
    public void Include_LaterFieldsOverride_IncludedOnesAndIncludedOverrideEarlier()
    {
        _dir.Write("base.conf", "a = from-include\nb = from-include");
        var main = _dir.Write("main.conf", "a = before\ninclude \"base.conf\"\nb = after");

        Assert.Equal("{a:\"from-include\",b:\"after\"}", HoconTesting.Render(Resolve(main)));
    }

    [Fact]
    public void Include_NestedDirectories_ResolveRelativeToTheIncludingFile()
    {
        _dir.Write("a/b/leaf.conf", "leaf = yes");
        _dir.Write("a/middle.conf", "include \"b/leaf.conf\"\nmiddle = yes");
        var main = _dir.Write("main.conf", "include \"a/middle.conf\"");

        Assert.Equal("{leaf:\"yes\",middle:\"yes\"}", HoconTesting.Render(Resolve(main)));
    }

    [Fact]
    public void Include_InsideObject_NestsFieldsAndResolvesSubstitutionsThere()
    {
        _dir.Write("part.conf", "x = 1\ny = ${x}\nz = ${top}");
        var main = _dir.Write("main.conf", "top = 7\nsection { include \"part.conf\" }");

        Assert.Equal("{top:7,section:{x:1,y:1,z:7}}", HoconTesting.Render(Resolve(main)));
    }

    [Fact]
    public void Include_ValuesKeepTheIncludedFilesOrigin()
    {
        _dir.Write("part.conf", "\n\nx = 1");
        var main = _dir.Write("main.conf", "include \"part.conf\"");

        Assert.Equal("part.conf:3", HoconTesting.Get(Resolve(main), "x").Origin.ToString());
    }

    [Theory]
    [InlineData("include \"missing.conf\"\na = 1", "{a:1}")]
    [InlineData("include file(\"other.conf\")", "{o:1}")]
    [InlineData("include required(\"other.conf\")", "{o:1}")]
    [InlineData("include required(file(\"other.conf\"))", "{o:1}")]
    public void Include_Forms_LoadOrSkipAsSpecified(string text, string expected)
    {
        _dir.Write("other.conf", "o = 1");
        var main = _dir.Write("main.conf", text);

        Assert.Equal(expected, HoconTesting.Render(Resolve(main)));
    }

    [Fact]
    public void Include_RequiredMissing_IsAnErrorWithLine()
    {
        var main = _dir.Write("main.conf", "a = 1\ninclude required(\"gone.conf\")");

        var error = Assert.Throws<ConfigException>(() => Resolve(main));

        Assert.StartsWith("required include \"gone.conf\" not found", Assert.Single(error.Errors), StringComparison.Ordinal);
        Assert.Contains("(main.conf:2)", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("include url(\"http://example/x.conf\")", "include url(…) is not supported (main.conf:1)")]
    [InlineData("include required(\"other.conf\"", "unbalanced parentheses in an include (main.conf:1)")]
    [InlineData("include required(nope)", "unexpected 'nope)' in an include (main.conf:1)")]
    public void Include_BadForm_IsAnError(string text, string expected)
    {
        var main = _dir.Write("main.conf", text);

        var error = Assert.Throws<ConfigException>(() => Resolve(main));

        Assert.StartsWith(expected, Assert.Single(error.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void Include_Cycle_IsAnError()
    {
        _dir.Write("a.conf", "include \"b.conf\"");
        _dir.Write("b.conf", "include \"a.conf\"");
        var main = _dir.Write("main.conf", "include \"a.conf\"");

        var error = Assert.Throws<ConfigException>(() => Resolve(main));

        Assert.StartsWith("include cycle: \"a.conf\" includes itself (b.conf:1)", Assert.Single(error.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void Load_FileWithInclude_BindsSettingsFromBoth()
    {
        _dir.Write("ports.conf", "server { http-port = 9000 }");
        var main = _dir.Write("router.conf", "include \"ports.conf\"\nserver.grpc-port = 9001");

        var config = ConfigLoader.Load(main, new Dictionary<string, string>());

        Assert.Equal((9000, 9001), (config.Server.HttpPort, config.Server.GrpcPort));
    }

    private static HoconObject Resolve(string path) =>
        HoconTesting.Resolve(File.ReadAllText(path), origin: Path.GetFileName(path), baseDirectory: Path.GetDirectoryName(path));
}
