using System.Text;
using Router.Gateway.Http;

namespace Router.Tests.Http;

public sealed class JsonTextTests
{
    [Theory]
    [InlineData("plain", true)]
    [InlineData("caf\u00e9 \u6f22\u5b57", true)]
    [InlineData("\\ud83d\\ude00", true)]               // a pair: 😀
    [InlineData("a\\\\ud800", true)]                   // an escaped backslash, then the letters ud800
    [InlineData("\\n\\t\\\"\\u00e9", true)]
    [InlineData("\\ud800", false)]                     // a high surrogate alone
    [InlineData("x\\udc00", false)]                    // a low surrogate alone
    [InlineData("\\ud800\\u0041", false)]              // a high surrogate, then no low one
    [InlineData("\\udc00\\ud800", false)]              // the pair the wrong way round
    [InlineData("\\ud83d\\ude00\\ud83d", false)]       // a pair, then a high surrogate alone
    public void IsValid_Escapes(string raw, bool valid) => Assert.Equal(valid, JsonText.IsValid(Encoding.UTF8.GetBytes(raw)));

    [Theory]
    [InlineData(new byte[] { 0x61, 0xFF }, false)]         // never valid in UTF-8
    [InlineData(new byte[] { 0xC3 }, false)]               // a sequence cut short
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 }, false)]   // a surrogate encoded as UTF-8
    [InlineData(new byte[] { 0xC3, 0xA9 }, true)]          // é
    public void IsValid_Bytes(byte[] raw, bool valid) => Assert.Equal(valid, JsonText.IsValid(raw));
}
