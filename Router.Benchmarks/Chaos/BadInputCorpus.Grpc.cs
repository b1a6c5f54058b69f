using System.Buffers.Binary;
using System.IO.Compression;
using Google.Protobuf;
using Grpc.Core;
using Router.Gateway.Grpc.Contracts.Compute;

namespace Router.Benchmarks.Chaos;

/// <summary>A call through the generated clients with bad fields; it may answer OK (the router caps what it can).</summary>
internal sealed record GrpcCallCase(string Name, Func<ComputeService.ComputeServiceClient, EfficiencyService.EfficiencyServiceClient, DateTime, Task> Call);

/// <summary>A gRPC request written by hand (HTTP/2, its own framing and metadata): what no generated client sends.</summary>
internal sealed record GrpcRawCase(string Name, string Path, byte[] Body, (string Name, string Value)[] Headers);

internal static partial class BadInputCorpus
{
    private static GenerateRequest Generate(Action<GenerateRequest> change)
    {
        var request = new GenerateRequest { Model = ChaosClients.Model, Prompt = "hi", Options = new GenerationOptions { MaxTokens = 4 }, Annotations = new JobAnnotations() };
        change(request);
        return request;
    }

    private static GrpcCallCase Unary(string name, Action<GenerateRequest> change) =>
        new(name, (compute, _, deadline) => compute.GenerateAsync(Generate(change), deadline: deadline).ResponseAsync);

    /// <summary>A stream: the first message (or the error) is enough; then the call is cancelled.</summary>
    private static GrpcCallCase Stream(string name, Action<GenerateRequest> change) =>
        new(name, async (compute, _, deadline) =>
        {
            using var call = compute.GenerateStream(Generate(change), deadline: deadline);
            await call.ResponseStream.MoveNext(CancellationToken.None).ConfigureAwait(false);
        });

    public static IEnumerable<GrpcCallCase> GrpcCalls()
    {
        yield return Unary("model empty", r => r.Model = "");
        yield return Unary("unknown model", r => r.Model = "no-such-model");
        yield return Unary("prompt empty", r => r.Prompt = "");
        yield return Unary("prompt of 1 MB", r => r.Prompt = new string('p', 1024 * 1024));
        yield return Unary("max_tokens -1", r => r.Options.MaxTokens = -1);
        yield return Stream("max_tokens 2^31-1", r => r.Options.MaxTokens = int.MaxValue);
        yield return Stream("context_length 2^31-1", r => r.Options.ContextLength = int.MaxValue);
        yield return Unary("context_length -1", r => r.Options.ContextLength = -1);
        yield return Unary("temperature NaN", r => r.Options.Temperature = float.NaN);
        yield return Unary("temperature +infinity", r => r.Options.Temperature = float.PositiveInfinity);
        yield return Unary("temperature -1", r => r.Options.Temperature = -1);
        yield return Unary("top_p 5", r => r.Options.TopP = 5);
        yield return Unary("top_p NaN", r => r.Options.TopP = float.NaN);
        yield return Unary("top_k -5", r => r.Options.TopK = -5);
        yield return Unary("10000 stop words", r => r.Options.Stop.AddRange(Enumerable.Range(0, 10_000).Select(i => "stop" + i)));
        yield return Unary("priority 99", r => r.Annotations.Priority = 99);
        yield return Unary("priority -1", r => r.Annotations.Priority = -1);
        yield return Unary("max_latency_ms -1", r => r.Annotations.MaxLatencyMs = -1);
        yield return Unary("max_power_watts -1", r => r.Annotations.MaxPowerWatts = -1);
        yield return Unary("target nowhere", r => r.Annotations.Target = "nowhere");
        yield return Unary("media_type of 10 KB", r => r.Annotations.Custom["media_type"] = new string('m', 10_000));
        yield return Unary("request_id with spaces", r => r.Annotations.Custom["request_id"] = "a b c");
        yield return Unary("request_id of 1000 characters", r => r.Annotations.Custom["request_id"] = new string('r', 1000));
        yield return Unary("prompt with U+FFFF and NUL", r => r.Prompt = "hi\uFFFF\0");
        yield return new GrpcCallCase("chat without messages", (compute, _, deadline) =>
            compute.ChatAsync(new ChatRequest { Model = ChaosClients.Model }, deadline: deadline).ResponseAsync);
        yield return new GrpcCallCase("chat with an empty role", (compute, _, deadline) =>
            compute.ChatAsync(new ChatRequest { Model = ChaosClients.Model, Messages = { new ChatMessage { Role = "", Content = "hi" } }, Options = new GenerationOptions { MaxTokens = 4 } }, deadline: deadline).ResponseAsync);
        yield return new GrpcCallCase("chat as a wizard", (compute, _, deadline) =>
            compute.ChatAsync(new ChatRequest { Model = ChaosClients.Model, Messages = { new ChatMessage { Role = "wizard", Content = "hi" } }, Options = new GenerationOptions { MaxTokens = 4 } }, deadline: deadline).ResponseAsync);
        yield return new GrpcCallCase("embed empty text", (compute, _, deadline) =>
            compute.EmbedAsync(new EmbedRequest { Model = ChaosClients.EmbeddingModel, Text = "" }, deadline: deadline).ResponseAsync);
        yield return new GrpcCallCase("embed with a generation model", (compute, _, deadline) =>
            compute.EmbedAsync(new EmbedRequest { Model = ChaosClients.Model, Text = "hi" }, deadline: deadline).ResponseAsync);
        yield return new GrpcCallCase("list backends of a strange type", (compute, _, deadline) =>
            compute.ListBackendsAsync(new ListBackendsRequest { TypeFilter = "\u0001\u0002" }, deadline: deadline).ResponseAsync);
        yield return new GrpcCallCase("mode 99", (_, efficiency, deadline) =>
            efficiency.SetModeAsync(new SetModeRequest { Mode = (EfficiencyMode)99 }, deadline: deadline).ResponseAsync);
        yield return new GrpcCallCase("mode unspecified", (_, efficiency, deadline) =>
            efficiency.SetModeAsync(new SetModeRequest { Mode = EfficiencyMode.Unspecified }, deadline: deadline).ResponseAsync);
    }

    private const string GenerateMethod = "/compute.v1.ComputeService/Generate";

    private static byte[] Frame(byte[] message, bool compressed = false, int? declaredLength = null)
    {
        var framed = new byte[5 + message.Length];
        framed[0] = compressed ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt32BigEndian(framed.AsSpan(1), (uint)(declaredLength ?? message.Length));
        message.CopyTo(framed, 5);
        return framed;
    }

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }

    public static IEnumerable<GrpcRawCase> GrpcRaw()
    {
        var valid = Generate(_ => { }).ToByteArray();
        (string, string)[] none = [];
        yield return new GrpcRawCase("a message that is not protobuf", GenerateMethod, Frame([0xFF, 0xFF, 0xFF, 0xFF, 0x0F]), none);
        // Field 2 (model), length-delimited, with bytes that are not UTF-8.
        yield return new GrpcRawCase("a string field of invalid UTF-8", GenerateMethod, Frame([0x12, 0x02, 0xC3, 0x28, 0x0A, 0x02, (byte)'h', (byte)'i']), none);
        yield return new GrpcRawCase("a field of the wrong wire type", GenerateMethod, Frame([0x10, 0x05]), none);
        yield return new GrpcRawCase("a length prefix past the end", GenerateMethod, Frame(valid, declaredLength: valid.Length + 100), none);
        yield return new GrpcRawCase("half a length prefix", GenerateMethod, [0, 0, 0], none);
        yield return new GrpcRawCase("compressed flag without grpc-encoding", GenerateMethod, Frame(valid, compressed: true), none);
        yield return new GrpcRawCase("an encoding the server lacks", GenerateMethod, Frame(valid, compressed: true), [("grpc-encoding", "snappy")]);
        yield return new GrpcRawCase("gzip flag over bytes that are not gzip", GenerateMethod, Frame(valid, compressed: true), [("grpc-encoding", "gzip")]);
        yield return new GrpcRawCase("a gzip bomb (64 MiB of zeros)", GenerateMethod, Frame(Gzip(new byte[64 * 1024 * 1024]), compressed: true), [("grpc-encoding", "gzip")]);
        yield return new GrpcRawCase("a message over the 4 MiB limit", GenerateMethod, Frame(Generate(r => r.Prompt = new string('p', 5 * 1024 * 1024)).ToByteArray()), none);
        yield return new GrpcRawCase("two messages to a unary method", GenerateMethod, [.. Frame(valid), .. Frame(valid)], none);
        yield return new GrpcRawCase("no message to a unary method", GenerateMethod, [], none);
        yield return new GrpcRawCase("an unknown method", "/compute.v1.ComputeService/Nope", Frame(valid), none);
        yield return new GrpcRawCase("an unknown service", "/nope.v1.Nope/Generate", Frame(valid), none);
        yield return new GrpcRawCase("grpc-timeout not a duration", GenerateMethod, Frame(valid), [("grpc-timeout", "abc")]);
        yield return new GrpcRawCase("grpc-timeout of 99999999 hours", GenerateMethod, Frame(valid), [("grpc-timeout", "99999999H")]);
        yield return new GrpcRawCase("binary metadata that is not base64", GenerateMethod, Frame(valid), [("x-trace-bin", "!!!not base64!!!")]);
        yield return new GrpcRawCase("authorization of another scheme", GenerateMethod, Frame(valid), [("authorization", "Basic Zm9vOmJhcg==")]);
        yield return new GrpcRawCase("metadata of 12 KiB", GenerateMethod, Frame(valid), [("x-big", new string('b', 12 * 1024))]);
        yield return new GrpcRawCase("content-type application/grpc+json", GenerateMethod, Frame("{\"model\":\"llama3.2:1b\"}"u8.ToArray()), [("content-type", "application/grpc+json")]);
    }
}
