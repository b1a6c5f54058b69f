using Router.Actors.Config;
using Router.Actors.Config.Hocon;

namespace Router.Tests.Config;

public sealed class HoconParserTests
{
    [Theory]
    [InlineData("a = 1", "{a:1}")]
    [InlineData("a : 1", "{a:1}")]
    [InlineData("a=1,b=2", "{a:1,b:2}")]
    [InlineData("a { b = 1 }", "{a:{b:1}}")]
    [InlineData("{ a = 1 }", "{a:1}")]
    [InlineData("{\"a\": {\"b\": [1, 2.5, -3e2]}}", "{a:{b:[1,2.5,-3e2]}}")]
    [InlineData("a = true\nb = false\nc = null", "{a:true,b:false,c:null}")]
    [InlineData("a = \"true\"", "{a:\"true\"}")]
    [InlineData("a = hello", "{a:\"hello\"}")]
    [InlineData("a = hello world  ", "{a:\"hello world\"}")]
    [InlineData("a = 30 seconds", "{a:\"30 seconds\"}")]
    [InlineData("a = foo\"bar\"baz", "{a:\"foobarbaz\"}")]
    [InlineData("a = 10MiB", "{a:\"10MiB\"}")]
    [InlineData("a = 1.2.3", "{a:\"1.2.3\"}")]
    [InlineData("a = 007", "{a:\"007\"}")]
    [InlineData("a = \"x\\ty\\n\\u0041\\\\\"", "{a:\"x\\ty\\nA\\\\\"}")]
    [InlineData("a = \"\"\"raw \\n \"quoted\" \"\"\"", "{a:\"raw \\\\n \\\"quoted\\\" \"}")]
    [InlineData("a = \"\"\"line1\nline2\"\"\"", "{a:\"line1\\nline2\"}")]
    [InlineData("a = \"\"\"\"x\"\"\"\"", "{a:\"\\\"x\\\"\"}")]
    [InlineData("a.b.c = 1", "{a:{b:{c:1}}}")]
    [InlineData("\"a.b\" = 1", "{a.b:1}")]
    [InlineData("a.\"b.c\".d = 1", "{a:{b.c:{d:1}}}")]
    [InlineData("a b = 1", "{a b:1}")]
    [InlineData("# comment\na = 1 # trailing\n// other\nb = 2 // trailing", "{a:1,b:2}")]
    [InlineData("a = \"not # a comment\"", "{a:\"not # a comment\"}")]
    [InlineData("a = [1, 2, 3]", "{a:[1,2,3]}")]
    [InlineData("a = [\n  1\n  2,\n  3,\n]", "{a:[1,2,3]}")]
    [InlineData("a = []", "{a:[]}")]
    [InlineData("a = {}", "{a:{}}")]
    [InlineData("a = [{ x = 1 }, { y = 2 }]", "{a:[{x:1},{y:2}]}")]
    [InlineData("a = [x_pkg_temp, coretemp]", "{a:[\"x_pkg_temp\",\"coretemp\"]}")]
    [InlineData("a {\n  b = 1\n}\nc = 2,", "{a:{b:1},c:2}")]
    [InlineData("", "{}")]
    [InlineData("\uFEFFa = 1", "{a:1}")]
    [InlineData("include = 1", "{include:1}")]
    public void Parse_Snippet_GivesValueTree(string text, string expected)
    {
        Assert.Equal(expected, HoconTesting.Render(HoconTesting.Resolve(text)));
    }

    [Theory]
    [InlineData("a = 1\na = 2", "{a:2}")]
    [InlineData("a { x = 1, y = 2 }\na { y = 3, z = 4 }", "{a:{x:1,y:3,z:4}}")]
    [InlineData("a { b { x = 1 } }\na.b.y = 2", "{a:{b:{x:1,y:2}}}")]
    [InlineData("a { x = 1 }\na = 5", "{a:5}")]
    [InlineData("a = 5\na { x = 1 }", "{a:{x:1}}")]
    [InlineData("a { x = 1 }\na = null\na { y = 2 }", "{a:{y:2}}")]
    [InlineData("a = [1]\na = [2]", "{a:[2]}")]
    [InlineData("a = [1] [2, 3]", "{a:[1,2,3]}")]
    [InlineData("a = { x = 1 } { y = 2 }", "{a:{x:1,y:2}}")]
    [InlineData("a = [1]\na += 2", "{a:[1,2]}")]
    [InlineData("a += 1\na += 2", "{a:[1,2]}")]
    public void Parse_RepeatedKeysAndConcatenation_MergeAsSpecified(string text, string expected)
    {
        Assert.Equal(expected, HoconTesting.Render(HoconTesting.Resolve(text)));
    }

    [Fact]
    public void Parse_Values_KeepFileAndLine()
    {
        var root = HoconTesting.Resolve("a = 1\n\nb {\n  c = \"x\"\n  d = [\n    2\n  ]\n}\n", origin: "router.conf");

        Assert.Equal(new ConfigOrigin("router.conf", 1), HoconTesting.Get(root, "a").Origin);
        Assert.Equal(new ConfigOrigin("router.conf", 3), HoconTesting.Get(root, "b").Origin);
        Assert.Equal(new ConfigOrigin("router.conf", 4), HoconTesting.Get(root, "b.c").Origin);
        Assert.Equal(new ConfigOrigin("router.conf", 6), ((HoconArray)HoconTesting.Get(root, "b.d")).Items[0].Origin);
    }

    [Fact]
    public void Parse_LineAfterTripleQuotedString_CountsItsNewlines()
    {
        var root = HoconTesting.Resolve("a = \"\"\"one\ntwo\nthree\"\"\"\nb = 1", origin: "x.conf");

        Assert.Equal("x.conf:4", HoconTesting.Get(root, "b").Origin.ToString());
    }

    [Theory]
    [InlineData("a = {\n  b = 1\n", "missing '}' for the object opened at line 1 (test.conf:3)")]
    [InlineData("a = [1, 2", "missing ']' for the array opened at line 1 (test.conf:1)")]
    [InlineData("a = 1\n}", "unexpected '}' with no object open (test.conf:2)")]
    [InlineData("a = \"open\nb = 1", "unterminated string (test.conf:1)")]
    [InlineData("x = 1\nendpoint = http://localhost:11434", "unexpected ':' in a value (test.conf:2); put the value in double quotes")]
    [InlineData("a =\n", "expected a value, got the end of the file (test.conf:1)")]
    [InlineData("= 1", "expected a key, got '=' (test.conf:1)")]
    [InlineData("a 1", "expected '=', ':' or '{' after key \"a 1\", got the end of the file (test.conf:1)")]
    [InlineData("a = 1,,b = 2", "unexpected ',' (test.conf:1)")]
    [InlineData("a = [1,,2]", "unexpected ',' (test.conf:1)")]
    [InlineData("a = 1 b = 2", "unexpected '=' in a value (test.conf:1)")]
    [InlineData("a = $b", "'$' must start a substitution ${path} (test.conf:1)")]
    [InlineData("a = ${b", "unterminated substitution (test.conf:1)")]
    [InlineData("a = ${}", "empty key in substitution path (test.conf:1)")]
    [InlineData("a..b = 1", "empty key in a dotted path (test.conf:1)")]
    [InlineData("a = \"bad \\q escape\"", "invalid escape '\\q' in string (test.conf:1)")]
    [InlineData("a = \"\"\"never closed", "unterminated \"\"\" string (test.conf:1)")]
    [InlineData("[1, 2]", "the root of a configuration must be an object, not an array (test.conf:1)")]
    [InlineData("a = 1\n\n  @", "unexpected character '@' (test.conf:3)")]
    [InlineData("{ a = 1 } b = 2", "unexpected text after the closing '}' of the root object (test.conf:1)")]
    public void Parse_SyntaxError_NamesFileLineAndProblem(string text, string expected)
    {
        var error = Assert.Throws<ConfigException>(() => HoconParser.Parse(text, "test.conf", null));

        var only = Assert.Single(error.Errors);
        Assert.StartsWith(expected, only, StringComparison.Ordinal);
    }
}
