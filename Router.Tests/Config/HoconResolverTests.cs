using Router.Actors.Config;

namespace Router.Tests.Config;

public sealed class HoconResolverTests
{
    [Theory]
    [InlineData("a = 1\nb = ${a}", "{a:1,b:1}")]
    [InlineData("b = ${a}\na = 1", "{b:1,a:1}")]
    [InlineData("a { x = 1 }\nb = ${a.x}", "{a:{x:1},b:1}")]
    [InlineData("a = ${b}\nb = ${c}\nc = done", "{a:\"done\",b:\"done\",c:\"done\"}")]
    [InlineData("host = example\nurl = \"http://\"${host}\":8080\"", "{host:\"example\",url:\"http://example:8080\"}")]
    [InlineData("a = hello\nb = ${a} world", "{a:\"hello\",b:\"hello world\"}")]
    [InlineData("a = 1\nb = ${a}${a}", "{a:1,b:\"11\"}")]
    [InlineData("a = [1, 2]\nb = ${a} [3]", "{a:[1,2],b:[1,2,3]}")]
    [InlineData("a = [1]\nb = [${a}, ${a}]", "{a:[1],b:[[1],[1]]}")]
    [InlineData("d { x = 1, y = 2 }\nb = ${d} { y = 3 }", "{d:{x:1,y:2},b:{x:1,y:3}}")]
    [InlineData("d { n { p = 1, q = 2 } }\nb = ${d} { n { q = 3 } }", "{d:{n:{p:1,q:2}},b:{n:{p:1,q:3}}}")]
    [InlineData("a = ${?missing}", "{}")]
    [InlineData("a = 1\na = ${?missing}", "{a:1}")]
    [InlineData("a = [1, ${?missing}, 2]", "{a:[1,2]}")]
    [InlineData("a = x${?missing}y", "{a:\"xy\"}")]
    [InlineData("x = 5\na = ${?x}", "{x:5,a:5}")]
    [InlineData("a { x = 1 }\nb = ${a}\na { y = 2 }", "{a:{x:1,y:2},b:{x:1,y:2}}")]
    [InlineData("x { p = 1 }\na = ${x}\na { q = 2 }", "{x:{p:1},a:{p:1,q:2}}")]
    [InlineData("list = [${d} { x = 1 }]\nd { y = 2 }", "{list:[{y:2,x:1}],d:{y:2}}")]
    [InlineData("a = \"${not.substituted}\"", "{a:\"${not.substituted}\"}")]
    public void Resolve_Substitution_GivesValue(string text, string expected)
    {
        Assert.Equal(expected, HoconTesting.Render(HoconTesting.Resolve(text)));
    }

    [Theory]
    [InlineData("foo { a = 1 }\nfoo = ${foo} { b = 2 }", "{foo:{a:1,b:2}}")]
    [InlineData("path = /bin\npath = ${path}\":/usr/bin\"", "{path:\"/bin:/usr/bin\"}")]
    [InlineData("list = [1]\nlist = ${list} [2]\nlist = ${list} [3]", "{list:[1,2,3]}")]
    [InlineData("a = 1\na = ${a}", "{a:1}")]
    [InlineData("foo { a { c = 1 } }\nfoo = ${foo.a}\nfoo { a = 2 }", "{foo:{c:1,a:2}}")]
    [InlineData("x = 1\nx = ${?x}", "{x:1}")]
    public void Resolve_SelfReference_SeesValueBelow(string text, string expected)
    {
        Assert.Equal(expected, HoconTesting.Render(HoconTesting.Resolve(text)));
    }

    [Fact]
    public void Resolve_BackendDefaultsPattern_MergesEachElementWithoutChangingTheDefaults()
    {
        var root = HoconTesting.Resolve("""
            defaults { type = ollama, limits { a = 1, b = 2 } }
            list = [
              ${defaults} { id = one, limits { b = 3 } }
              ${defaults} { id = two }
            ]
            """);

        Assert.Equal(
            "{defaults:{type:\"ollama\",limits:{a:1,b:2}},list:[{type:\"ollama\",limits:{a:1,b:3},id:\"one\"},{type:\"ollama\",limits:{a:1,b:2},id:\"two\"}]}",
            HoconTesting.Render(root));
    }

    [Theory]
    [InlineData("a = ${?HOME_DIR}", "{a:\"/home/me\"}")]
    [InlineData("a = ${HOME_DIR}/cache", "{a:\"/home/me/cache\"}")]
    [InlineData("a = fallback\na = ${?HOME_DIR}", "{a:\"/home/me\"}")]
    [InlineData("HOME_DIR = inside\na = ${HOME_DIR}", "{HOME_DIR:\"inside\",a:\"inside\"}")]
    [InlineData("a = fallback\na = ${?NOT_SET}", "{a:\"fallback\"}")]
    public void Resolve_EnvironmentSubstitution_UsesInjectedVariables(string text, string expected)
    {
        var environment = new Dictionary<string, string> { ["HOME_DIR"] = "/home/me" };

        Assert.Equal(expected, HoconTesting.Render(HoconTesting.Resolve(text, environment)));
    }

    [Fact]
    public void Resolve_EnvironmentSubstitution_OriginNamesTheVariable()
    {
        var root = HoconTesting.Resolve("a = ${?PORT}", new Dictionary<string, string> { ["PORT"] = "1" });

        Assert.Equal("env PORT", HoconTesting.Get(root, "a").Origin.ToString());
    }

    [Theory]
    [InlineData("a = ${b}\nb = ${a}", "substitution cycle: ${b} -> ${a} refers back to itself (test.conf:2)")]
    [InlineData("a = ${a}", "substitution cycle: ${a} refers back to itself (test.conf:1)")]
    [InlineData("a { x = ${a.y}, y = ${a.x} }", "substitution cycle: ${a.y} -> ${a.x} refers back to itself (test.conf:1)")]
    [InlineData("a = ${b} { x = 1 }\nb = ${a}", "substitution cycle: ${b} -> ${a} refers back to itself (test.conf:2)")]
    public void Resolve_Cycle_ReportsTheChain(string text, string expected)
    {
        var error = HoconTesting.FailsToResolve(text);

        Assert.StartsWith(expected, Assert.Single(error.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_MissingRequiredSubstitutions_ReportsEachWithOriginAndFix()
    {
        var error = HoconTesting.FailsToResolve("a = ${nope}\nb {\n  c = ${also.missing}\n}");

        Assert.Equal(
            [
                "could not resolve substitution ${nope}: no setting nope and no environment variable nope (test.conf:1); define nope, or write ${?nope} if it may be absent",
                "could not resolve substitution ${also.missing}: no setting also.missing and no environment variable also.missing (test.conf:3); define also.missing, or write ${?also.missing} if it may be absent",
            ],
            error.Errors);
    }

    [Theory]
    [InlineData("a = [1]\nb = { x = 1 } ${a}", "cannot concatenate an object and an array (test.conf:2)")]
    [InlineData("a = [1]\nb = text ${a}", "cannot concatenate a string and an array (test.conf:2)")]
    public void Resolve_ConcatenationOfDifferentKinds_IsAnError(string text, string expected)
    {
        var error = HoconTesting.FailsToResolve(text);

        Assert.StartsWith(expected, Assert.Single(error.Errors), StringComparison.Ordinal);
    }
}
