using System.Text;

namespace Router.Benchmarks.Chaos;

/// <summary>One bad HTTP request, as the bytes a careless or hostile client sends.</summary>
/// <param name="HalfClose">
/// Shut the sending side after the bytes: the body ends short of what the framing promised. Kestrel
/// takes the client's FIN for the end of the connection, so it may close without an answer.
/// </param>
/// <param name="AnswerOfAnotherProtocol">The bytes start another protocol (the HTTP/2 preface): any answer in it will do.</param>
/// <param name="HeadOnly">HEAD: an answer never has a body.</param>
internal sealed record HttpCase(string Name, byte[] Request, bool HalfClose = false, bool AnswerOfAnotherProtocol = false, bool HeadOnly = false);

/// <summary>
/// The bad input the suite sends: bodies, headers, framing, methods and queries on the HTTP port;
/// frames on the WebSocket; messages, framing and metadata on the gRPC port. The HTTP requests are
/// raw bytes (with <c>Connection: close</c>), so nothing a client library would refuse to send is
/// left out: bytes that are not UTF-8, control characters, broken framing.
/// </summary>
internal static partial class BadInputCorpus
{
    /// <summary>Every path that takes a JSON body.</summary>
    private static readonly string[] JsonPaths =
    [
        "/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/api/chat", "/api/generate",
        "/api/embed", "/api/embeddings", "/api/show", "/efficiency", "/simulation",
    ];

    /// <summary>Bodies that are wrong for any JSON endpoint: not JSON, not an object, text that is not Unicode, sizes and depths no one sends.</summary>
    private static IEnumerable<(string Name, byte[] Body)> MalformedBodies()
    {
        yield return ("empty body", []);
        yield return ("truncated object", "{"u8.ToArray());
        yield return ("array", "[]"u8.ToArray());
        yield return ("null", "null"u8.ToArray());
        yield return ("number", "42"u8.ToArray());
        yield return ("string", "\"model\""u8.ToArray());
        yield return ("missing value", "{\"model\":}"u8.ToArray());
        yield return ("trailing garbage", "{\"model\":\"llama3.2:1b\"} xyz"u8.ToArray());
        yield return ("single quotes", "{'model':'llama3.2:1b'}"u8.ToArray());
        yield return ("comment", "{/* hi */\"model\":\"llama3.2:1b\"}"u8.ToArray());
        yield return ("nested 10000 deep", Encoding.ASCII.GetBytes(new string('[', 10_000) + new string(']', 10_000)));
        yield return ("object nested 200 deep", Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("{\"a\":", 200)) + "1" + new string('}', 200)));
        yield return ("key of invalid UTF-8", [.. "{\"mo"u8, 0xFF, .. "del\":\"llama3.2:1b\"}"u8]);
        yield return ("value of invalid UTF-8", [.. "{\"model\":\"llama"u8, 0xC3, 0x28, .. "\"}"u8]);
        yield return ("overlong UTF-8", [.. "{\"model\":\""u8, 0xC0, 0xAF, .. "\"}"u8]);
        yield return ("truncated UTF-8 sequence", [.. "{\"model\":\"x"u8, 0xE2, 0x82, .. "\"}"u8]);
        yield return ("lone surrogate key", "{\"model\\ud800\":\"llama3.2:1b\"}"u8.ToArray());
        yield return ("lone surrogate model", "{\"model\":\"\\ud800\",\"prompt\":\"hi\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"u8.ToArray());
        yield return ("low surrogate first", "{\"model\":\"\\udc00\\ud800\"}"u8.ToArray());
        yield return ("NUL in a string", "{\"model\":\"llama3.2:1b\\u0000\"}"u8.ToArray());
        yield return ("duplicate keys", "{\"model\":\"llama3.2:1b\",\"model\":5}"u8.ToArray());
        yield return ("model a number", "{\"model\":42,\"prompt\":\"hi\"}"u8.ToArray());
        yield return ("model null", "{\"model\":null,\"prompt\":\"hi\"}"u8.ToArray());
        yield return ("model an object", "{\"model\":{\"name\":\"llama3.2:1b\"}}"u8.ToArray());
        yield return ("model 100 KB", Encoding.ASCII.GetBytes("{\"model\":\"" + new string('m', 100_000) + "\",\"prompt\":\"hi\"}"));
        yield return ("number 1e400", "{\"model\":\"llama3.2:1b\",\"max_tokens\":1e400,\"mode\":1e400}"u8.ToArray());
        yield return ("BOM then JSON", [0xEF, 0xBB, 0xBF, .. "{\"model\":\"llama3.2:1b\"}"u8]);
        yield return ("UTF-16 body", Encoding.Unicode.GetBytes("{\"model\":\"llama3.2:1b\"}"));
    }

    /// <summary>Bodies wrong for one endpoint in particular: wrong types, absurd values, bad hints in the body.</summary>
    private static IEnumerable<(string Path, string Name, string Body)> FieldCases()
    {
        const string Chat = "/v1/chat/completions";
        const string Msg = "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]";
        yield return (Chat, "messages a string", "{\"model\":\"llama3.2:1b\",\"messages\":\"hi\"}");
        yield return (Chat, "messages empty", "{\"model\":\"llama3.2:1b\",\"messages\":[]}");
        yield return (Chat, "message of numbers", "{\"model\":\"llama3.2:1b\",\"messages\":[{\"role\":5,\"content\":{}}]}");
        yield return (Chat, "message null", "{\"model\":\"llama3.2:1b\",\"messages\":[null]}");
        yield return (Chat, "content with a lone surrogate", "{\"model\":\"llama3.2:1b\",\"messages\":[{\"role\":\"user\",\"content\":\"hi \\ud800\"}]}");
        yield return (Chat, "max_tokens 1e9", "{\"model\":\"llama3.2:1b\"," + Msg + ",\"max_tokens\":1000000000}");
        yield return (Chat, "max_tokens -1", "{\"model\":\"llama3.2:1b\"," + Msg + ",\"max_tokens\":-1}");
        yield return (Chat, "max_tokens a string", "{\"model\":\"llama3.2:1b\"," + Msg + ",\"max_tokens\":\"many\"}");
        yield return (Chat, "max_tokens 2^31", "{\"model\":\"llama3.2:1b\"," + Msg + ",\"max_tokens\":2147483648}");
        yield return (Chat, "temperature a string", "{\"model\":\"llama3.2:1b\"," + Msg + ",\"temperature\":\"hot\"}");
        yield return (Chat, "temperature 1e308", "{\"model\":\"llama3.2:1b\"," + Msg + ",\"temperature\":1e308}");
        yield return (Chat, "stream a string", "{\"model\":\"llama3.2:1b\"," + Msg + ",\"stream\":\"yes\"}");
        yield return (Chat, "stream_options a number", "{\"model\":\"llama3.2:1b\"," + Msg + ",\"stream\":true,\"stream_options\":5}");
        yield return (Chat, "n a million", "{\"model\":\"llama3.2:1b\"," + Msg + ",\"n\":1000000}");
        yield return (Chat, "stop a number", "{\"model\":\"llama3.2:1b\"," + Msg + ",\"stop\":42}");
        yield return (Chat, "tools a string", "{\"model\":\"llama3.2:1b\"," + Msg + ",\"tools\":\"x\"}");
        yield return (Chat, "unknown model", "{\"model\":\"no-such-model:7b\"," + Msg + "}");
        yield return ("/v1/completions", "prompt of numbers", "{\"model\":\"llama3.2:1b\",\"prompt\":[1,2,3]}");
        yield return ("/v1/completions", "prompt a number", "{\"model\":\"llama3.2:1b\",\"prompt\":42}");
        yield return ("/v1/completions", "prompt with a lone surrogate", "{\"model\":\"llama3.2:1b\",\"prompt\":\"\\udfff\",\"max_tokens\":4}");
        yield return ("/api/generate", "prompt a number", "{\"model\":\"llama3.2:1b\",\"prompt\":42}");
        yield return ("/api/generate", "options a string", "{\"model\":\"llama3.2:1b\",\"prompt\":\"hi\",\"options\":\"x\"}");
        yield return ("/api/generate", "num_predict 1e18", "{\"model\":\"llama3.2:1b\",\"prompt\":\"hi\",\"stream\":false,\"options\":{\"num_predict\":1000000000000000000}}");
        yield return ("/api/generate", "num_predict 1e9 streamed", "{\"model\":\"llama3.2:1b\",\"prompt\":\"hi\",\"options\":{\"num_predict\":1000000000}}");
        yield return ("/api/generate", "num_ctx -1", "{\"model\":\"llama3.2:1b\",\"prompt\":\"hi\",\"options\":{\"num_ctx\":-1}}");
        yield return ("/api/generate", "num_ctx 2^40", "{\"model\":\"llama3.2:1b\",\"prompt\":\"hi\",\"options\":{\"num_ctx\":1099511627776}}");
        yield return ("/api/generate", "temperature a string", "{\"model\":\"llama3.2:1b\",\"prompt\":\"hi\",\"options\":{\"temperature\":\"hot\"}}");
        yield return ("/api/generate", "keep_alive forever", "{\"model\":\"llama3.2:1b\",\"prompt\":\"hi\",\"keep_alive\":\"forever\"}");
        yield return ("/api/generate", "keep_alive -5", "{\"model\":\"llama3.2:1b\",\"keep_alive\":-5}");
        yield return ("/api/generate", "keep_alive an object", "{\"model\":\"llama3.2:1b\",\"keep_alive\":{}}");
        yield return ("/api/generate", "images a string", "{\"model\":\"llama3.2:1b\",\"prompt\":\"hi\",\"images\":\"x\"}");
        yield return ("/api/generate", "format a number", "{\"model\":\"llama3.2:1b\",\"prompt\":\"hi\",\"format\":5}");
        yield return ("/api/chat", "content with a lone surrogate", "{\"model\":\"llama3.2:1b\",\"messages\":[{\"role\":\"user\",\"content\":\"hi \\ud800\"}],\"stream\":false}");
        yield return ("/api/chat", "images a number", "{\"model\":\"llama3.2:1b\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\",\"images\":5}]}");
        yield return ("/v1/embeddings", "input a number", "{\"model\":\"nomic-embed-text\",\"input\":42}");
        yield return ("/v1/embeddings", "input nested", "{\"model\":\"nomic-embed-text\",\"input\":[[]]}");
        yield return ("/v1/embeddings", "input with a lone surrogate", "{\"model\":\"nomic-embed-text\",\"input\":[\"\\ud800\"]}");
        yield return ("/v1/embeddings", "dimensions -1", "{\"model\":\"nomic-embed-text\",\"input\":\"hi\",\"dimensions\":-1}");
        yield return ("/v1/embeddings", "dimensions 1e9", "{\"model\":\"nomic-embed-text\",\"input\":\"hi\",\"dimensions\":1000000000}");
        yield return ("/api/embed", "input an object", "{\"model\":\"nomic-embed-text\",\"input\":{}}");
        yield return ("/api/embeddings", "prompt a number", "{\"model\":\"nomic-embed-text\",\"prompt\":5}");
        yield return ("/api/show", "name with a lone surrogate", "{\"name\":\"\\ud800\"}");
        yield return ("/api/show", "model a number", "{\"model\":5}");
        yield return ("/api/show", "unknown model", "{\"model\":\"no-such-model\"}");
        yield return ("/efficiency", "unknown mode", "{\"mode\":\"turbo\"}");
        yield return ("/efficiency", "mode a number", "{\"mode\":5}");
        yield return ("/efficiency", "mode with a lone surrogate", "{\"mode\":\"\\ud800\"}");
        yield return ("/efficiency", "key with a lone surrogate", "{\"\\ud800\":1}");
        yield return ("/efficiency", "extra field", "{\"mode\":\"auto\",\"turbo\":true}");
        yield return ("/simulation", "battery 101 %", "{\"battery_percent\":101}");
        yield return ("/simulation", "battery a string", "{\"battery_percent\":\"full\"}");
        yield return ("/simulation", "temperatures an array", "{\"temperatures\":[1]}");
        yield return ("/simulation", "temperature a string", "{\"temperatures\":{\"ollama-npu\":\"hot\"}}");
        yield return ("/simulation", "temperature 1e308", "{\"temperatures\":{\"ollama-npu\":1e308}}");
        yield return ("/simulation", "faults of an unknown backend", "{\"faults\":{\"ollama-gpu\":{\"hang\":true}}}");
        yield return ("/simulation", "fault status a string", "{\"faults\":{\"ollama-npu\":{\"error_status\":\"503\"}}}");
        yield return ("/simulation", "faults a number", "{\"faults\":5}");
        yield return ("/simulation", "slow_token_ms 1e308", "{\"faults\":{\"ollama-npu\":{\"slow_token_ms\":1e308}}}");
        yield return ("/simulation", "on_ac_power a string", "{\"on_ac_power\":\"yes\"}");
        yield return ("/simulation", "throttling null", "{\"throttling\":null}");
        yield return ("/api/pull", "model management", "{\"model\":\"llama3.2:1b\"}");
    }

    /// <summary>Headers a request may carry wrongly; each on an otherwise fine streamed chat request.</summary>
    private static IEnumerable<(string Name, string Headers)> HeaderCases()
    {
        yield return ("X-Priority urgent", "X-Priority: urgent\r\n");
        yield return ("X-Priority 7", "X-Priority: 7\r\n");
        yield return ("X-Priority -1", "X-Priority: -1\r\n");
        yield return ("X-Priority empty", "X-Priority: \r\n");
        yield return ("two X-Priority", "X-Priority: high\r\nX-Priority: low\r\n");
        yield return ("X-Max-Latency-Ms -5", "X-Max-Latency-Ms: -5\r\n");
        yield return ("X-Max-Latency-Ms 0", "X-Max-Latency-Ms: 0\r\n");
        yield return ("X-Max-Latency-Ms abc", "X-Max-Latency-Ms: abc\r\n");
        yield return ("X-Max-Latency-Ms 1e20", "X-Max-Latency-Ms: 99999999999999999999\r\n");
        yield return ("X-Max-Latency-Ms 1e3", "X-Max-Latency-Ms: 1e3\r\n");
        yield return ("X-Max-Power-Watts NaN", "X-Max-Power-Watts: NaN\r\n");
        yield return ("X-Max-Power-Watts Infinity", "X-Max-Power-Watts: Infinity\r\n");
        yield return ("X-Max-Power-Watts -1", "X-Max-Power-Watts: -1\r\n");
        yield return ("X-Max-Power-Watts 1e400", "X-Max-Power-Watts: 1e400\r\n");
        yield return ("X-Target-Backend nowhere", "X-Target-Backend: nowhere\r\n");
        yield return ("X-Target-Backend empty", "X-Target-Backend: \r\n");
        yield return ("X-Latency-Critical maybe", "X-Latency-Critical: maybe\r\n");
        yield return ("X-Power-Efficient 2", "X-Power-Efficient: 2\r\n");
        yield return ("X-Request-ID 10 KB", "X-Request-ID: " + new string('r', 10_000) + "\r\n");
        yield return ("X-Request-ID with spaces", "X-Request-ID: a b c\r\n");
        yield return ("X-Media-Type 10 KB", "X-Media-Type: " + new string('m', 10_000) + "\r\n");
        yield return ("Content-Type text/plain", "Content-Type: text/plain\r\n");
        yield return ("Content-Type application/xml", "Content-Type: application/xml\r\n");
        yield return ("Content-Type charset=utf-16", "Content-Type: application/json; charset=utf-16\r\n");
        yield return ("Content-Encoding gzip, body plain", "Content-Encoding: gzip\r\n");
        yield return ("Origin of another site", "Origin: http://evil.example\r\n");
        yield return ("Origin with userinfo", "Origin: http://localhost:@evil.example\r\n");
        yield return ("Origin not a URI", "Origin: ::::\r\n");
        yield return ("two Origins", "Origin: http://localhost:3000\r\nOrigin: http://evil.example\r\n");
        yield return ("Authorization garbage", "Authorization: Bearer \u0001\r\n");
        yield return ("Authorization Basic", "Authorization: Basic Zm9vOmJhcg==\r\n");
        yield return ("a 64 KiB header", "X-Big: " + new string('b', 64 * 1024) + "\r\n");
        yield return ("300 headers", string.Concat(Enumerable.Range(0, 300).Select(i => $"X-H{i}: {i}\r\n")));
        yield return ("Expect 100-continue", "Expect: 100-continue\r\n");
        yield return ("Expect nonsense", "Expect: 999-nope\r\n");
    }

    private const string ValidChat = "{\"model\":\"llama3.2:1b\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":4,\"stream\":true}";

    public static IEnumerable<HttpCase> Http(int port)
    {
        foreach (var path in JsonPaths)
        {
            foreach (var (name, body) in MalformedBodies())
            {
                yield return new HttpCase($"POST {path}: {name}", Post(port, path, body));
            }
        }

        foreach (var (path, name, body) in FieldCases())
        {
            yield return new HttpCase($"POST {path}: {name}", Post(port, path, Encoding.UTF8.GetBytes(body)));
        }

        foreach (var (name, headers) in HeaderCases())
        {
            yield return new HttpCase($"header: {name}", Post(port, "/v1/chat/completions", Encoding.UTF8.GetBytes(ValidChat), headers));
        }

        // Bytes that are not UTF-8 (nor ASCII) in a header value, and a Host of another site.
        yield return new HttpCase("header: X-Request-ID of invalid UTF-8", Post(port, "/v1/chat/completions", Encoding.UTF8.GetBytes(ValidChat), rawHeaders: [.. "X-Request-ID: a"u8, 0xFF, 0xFE, .. "\r\n"u8]));
        yield return new HttpCase("header: X-Target-Backend of Latin-1", Post(port, "/v1/chat/completions", Encoding.UTF8.GetBytes(ValidChat), rawHeaders: [.. "X-Target-Backend: np"u8, 0xFC, .. "\r\n"u8]));
        yield return new HttpCase("header: Host of another site", Raw($"POST /v1/chat/completions HTTP/1.1\r\nHost: evil.example\r\nContent-Type: application/json\r\nContent-Length: {ValidChat.Length}\r\nConnection: close\r\n\r\n{ValidChat}"));
        yield return new HttpCase("header: no Host", Raw($"POST /v1/chat/completions HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: {ValidChat.Length}\r\nConnection: close\r\n\r\n{ValidChat}"));
        yield return new HttpCase("header: two Hosts", Raw($"GET /health HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\nConnection: close\r\n\r\n"));

        // Framing: what the body's length says against what comes.
        yield return new HttpCase("framing: Content-Length longer than the body", Raw($"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{ValidChat}"), HalfClose: true);
        yield return new HttpCase("framing: Content-Length longer than the body, client waits", Raw($"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{ValidChat}"));
        yield return new HttpCase("framing: Content-Length not a number", Raw($"POST /api/generate HTTP/1.1\r\nHost: localhost\r\nContent-Length: abc\r\nConnection: close\r\n\r\n{{}}"));
        yield return new HttpCase("framing: two Content-Lengths", Raw($"POST /api/generate HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nContent-Length: 3\r\nConnection: close\r\n\r\n{{}}"));
        yield return new HttpCase("framing: chunked and Content-Length", Raw("POST /api/generate HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\n{}\r\n0\r\n\r\n"));
        yield return new HttpCase("framing: chunk size not hex", Raw("POST /api/generate HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"));
        yield return new HttpCase("framing: chunk shorter than its size", Raw("POST /api/generate HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n100\r\n{\"model\":\"x\"}"), HalfClose: true);
        yield return new HttpCase("framing: Transfer-Encoding gzip", Raw("POST /api/generate HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip\r\nConnection: close\r\n\r\n{}"));
        yield return new HttpCase("framing: body over the 10 MiB limit", Post(port, "/v1/chat/completions", Encoding.ASCII.GetBytes("{\"model\":\"llama3.2:1b\",\"messages\":[{\"role\":\"user\",\"content\":\"" + new string('x', 11 * 1024 * 1024) + "\"}]}")));
        yield return new HttpCase("framing: garbage request line", Raw("GARBAGE\r\n\r\n"));
        yield return new HttpCase("framing: HTTP/0.9", Raw("GET /health\r\n\r\n"));
        yield return new HttpCase("framing: HTTP/2 preface on the HTTP/1 port", Raw("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), AnswerOfAnotherProtocol: true);
        yield return new HttpCase("framing: HTTP/7.0", Raw("GET /health HTTP/7.0\r\nHost: localhost\r\nConnection: close\r\n\r\n"));
        yield return new HttpCase("framing: NUL in the path", Raw("GET /hea\0lth HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"));
        yield return new HttpCase("framing: URL of 100 KB", Raw($"GET /{new string('a', 100_000)} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"));
        yield return new HttpCase("framing: header without a colon", Raw("GET /health HTTP/1.1\r\nHost: localhost\r\nNoColonHere\r\nConnection: close\r\n\r\n"));
        yield return new HttpCase("framing: LF line ends", Raw("GET /health HTTP/1.1\nHost: localhost\nConnection: close\n\n"));

        // Methods and paths.
        foreach (var (method, path) in new[]
        {
            ("PUT", "/v1/chat/completions"), ("DELETE", "/efficiency"), ("GET", "/api/generate"), ("POST", "/health"),
            ("OPTIONS", "/v1/chat/completions"), ("HEAD", "/v1/models"), ("PATCH", "/simulation"), ("GETT", "/health"),
            ("GET", "/../../etc/passwd"), ("GET", "/v1/%2e%2e/health"), ("GET", "/api/%FF%FE"), ("GET", "/v1/stream/ws"),
            ("POST", "/api/delete"), ("GET", "/nothing-here"),
        })
        {
            yield return new HttpCase($"method: {method} {path}", Raw($"{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"), HeadOnly: method == "HEAD");
        }

        // Queries of /explain.
        foreach (var query in new[]
        {
            "model=%FF%FE", "model=%ED%A0%80", "priority=urgent", "max_latency_ms=-1", "max_power_watts=NaN",
            "target=nowhere", "latency_critical=maybe", "model=" + new string('m', 5000), "model=llama3.2:1b&model=qwen2.5:0.5b", "%zz=1",
        })
        {
            yield return new HttpCase($"query: /explain?{Shorten(query)}", Raw($"GET /explain?{query} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"));
        }
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";

    private static byte[] Raw(string request) => Encoding.Latin1.GetBytes(request);

    private static byte[] Post(int port, string path, byte[] body, string headers = "", byte[]? rawHeaders = null) =>
    [
        .. Encoding.Latin1.GetBytes($"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{(headers.Contains("Content-Type", StringComparison.Ordinal) ? "" : "Content-Type: application/json\r\n")}{headers}"),
        .. rawHeaders ?? [],
        .. Encoding.ASCII.GetBytes($"Content-Length: {body.Length}\r\nConnection: close\r\n\r\n"),
        .. body,
    ];
}
