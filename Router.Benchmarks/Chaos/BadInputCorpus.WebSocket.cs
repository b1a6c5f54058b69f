using System.Net.WebSockets;
using System.Text;

namespace Router.Benchmarks.Chaos;

/// <summary>What the router must do with a bad frame on a socket where another request is streaming.</summary>
internal enum SocketExpectation
{
    /// <summary>A well-formed frame with a bad request in it: an answer for that request (its error frame, or its done frame where the router can serve it); the socket and the other request go on.</summary>
    Answered,
    /// <summary>A frame outside the protocol: the socket closes with a code that says so (1003, 1007, 1008, 1009).</summary>
    Close,
    /// <summary>Nothing to answer (a cancel for a request that does not exist); the other request goes on.</summary>
    Nothing,
}

/// <summary>Bad frames for <c>/v1/stream/ws</c>; <see cref="RequestId"/> is the bad request's id when it has one.</summary>
internal sealed record SocketCase(string Name, SocketExpectation Expect, string? RequestId, params (WebSocketMessageType Type, byte[] Payload)[] Frames);

internal static partial class BadInputCorpus
{
    private static (WebSocketMessageType, byte[]) Text(string json) => (WebSocketMessageType.Text, Encoding.UTF8.GetBytes(json));

    private static SocketCase Request(string name, string fields) =>
        new(name, SocketExpectation.Answered, "bad", Text("{\"request_id\":\"bad\"," + fields + "}"));

    private static SocketCase Outside(string name, params (WebSocketMessageType, byte[])[] frames) =>
        new(name, SocketExpectation.Close, null, frames);

    public static IEnumerable<SocketCase> WebSocket()
    {
        yield return Request("model with a lone surrogate", "\"model\":\"\\ud800\",\"prompt\":\"hi\"");
        yield return Request("prompt with a lone surrogate", "\"model\":\"llama3.2:1b\",\"prompt\":\"hi \\ud800\"");
        yield return Request("target with a lone surrogate", "\"model\":\"llama3.2:1b\",\"prompt\":\"hi\",\"target\":\"\\udc00\"");
        yield return Request("no model", "\"prompt\":\"hi\"");
        yield return Request("model a number", "\"model\":5,\"prompt\":\"hi\"");
        yield return Request("unknown model", "\"model\":\"no-such-model\",\"prompt\":\"hi\"");
        yield return Request("no prompt or messages", "\"model\":\"llama3.2:1b\"");
        yield return Request("prompt empty", "\"model\":\"llama3.2:1b\",\"prompt\":\"\"");
        yield return Request("messages a string", "\"model\":\"llama3.2:1b\",\"messages\":\"hi\"");
        yield return Request("messages empty", "\"model\":\"llama3.2:1b\",\"messages\":[]");
        yield return Request("options a string", "\"model\":\"llama3.2:1b\",\"prompt\":\"hi\",\"options\":\"x\"");
        yield return Request("num_predict a string", "\"model\":\"llama3.2:1b\",\"prompt\":\"hi\",\"options\":{\"num_predict\":\"many\"}");
        yield return Request("num_ctx 1e12", "\"model\":\"llama3.2:1b\",\"prompt\":\"hi\",\"options\":{\"num_ctx\":1000000000000}");
        yield return Request("stream a string", "\"model\":\"llama3.2:1b\",\"prompt\":\"hi\",\"stream\":\"yes\"");
        yield return Request("priority urgent", "\"model\":\"llama3.2:1b\",\"prompt\":\"hi\",\"priority\":\"urgent\"");
        yield return Request("max_latency_ms -1", "\"model\":\"llama3.2:1b\",\"prompt\":\"hi\",\"max_latency_ms\":-1");
        yield return Request("max_power_watts NaN", "\"model\":\"llama3.2:1b\",\"prompt\":\"hi\",\"max_power_watts\":\"NaN\"");
        yield return Request("target nowhere", "\"model\":\"llama3.2:1b\",\"prompt\":\"hi\",\"target\":\"nowhere\"");
        yield return Request("name with a lone surrogate", "\"model\":\"llama3.2:1b\",\"prompt\":\"hi\",\"\\ud800\":1");
        yield return Request("latency_critical maybe", "\"model\":\"llama3.2:1b\",\"prompt\":\"hi\",\"latency_critical\":\"maybe\"");
        yield return new SocketCase("request_id of the request in flight", SocketExpectation.Answered, "bg",
            Text("{\"request_id\":\"bg\",\"model\":\"llama3.2:1b\",\"prompt\":\"again\"}"));
        yield return new SocketCase("cancel of an unknown request", SocketExpectation.Nothing, null, Text("{\"request_id\":\"nope\",\"cancel\":true}"));
        yield return new SocketCase("65 requests in flight on one socket", SocketExpectation.Answered, "over",
            [.. Enumerable.Range(0, 63).Select(i => Text($"{{\"request_id\":\"many-{i}\",\"model\":\"llama3.2:1b\",\"prompt\":\"hi\",\"priority\":\"best-effort\"}}")),
             Text("{\"request_id\":\"over\",\"model\":\"llama3.2:1b\",\"prompt\":\"hi\"}")]);

        yield return Outside("not JSON", Text("hello"));
        yield return Outside("truncated JSON", Text("{"));
        yield return Outside("an array", Text("[]"));
        yield return Outside("null", Text("null"));
        yield return Outside("no request_id", Text("{\"model\":\"llama3.2:1b\",\"prompt\":\"hi\"}"));
        yield return Outside("request_id a number", Text("{\"request_id\":5,\"model\":\"llama3.2:1b\",\"prompt\":\"hi\"}"));
        yield return Outside("request_id empty", Text("{\"request_id\":\"\",\"model\":\"llama3.2:1b\",\"prompt\":\"hi\"}"));
        yield return Outside("request_id with a space", Text("{\"request_id\":\"a b\",\"model\":\"llama3.2:1b\",\"prompt\":\"hi\"}"));
        yield return Outside("request_id with a lone surrogate", Text("{\"request_id\":\"\\ud800\",\"model\":\"llama3.2:1b\",\"prompt\":\"hi\"}"));
        yield return Outside("request_id of 1000 characters", Text("{\"request_id\":\"" + new string('r', 1000) + "\",\"model\":\"llama3.2:1b\",\"prompt\":\"hi\"}"));
        yield return Outside("a binary frame", (WebSocketMessageType.Binary, [1, 2, 3]));
        yield return Outside("a text frame of invalid UTF-8", (WebSocketMessageType.Text, [.. "{\"request_id\":\"x"u8, 0xFF, 0xFE, .. "\"}"u8]));
        yield return Outside("a frame over the size limit", Text("{\"request_id\":\"big\",\"model\":\"llama3.2:1b\",\"prompt\":\"" + new string('x', 11 * 1024 * 1024) + "\"}"));
    }
}
