using System.Text;
using Microsoft.AspNetCore.Http;
using Router.Actors.Backends;
using static Router.Tests.Backends.BackendTestKit;

namespace Router.Tests.Backends;

public sealed class BackendProtocolTests
{
    private static readonly BackendRequest Generate = Json(BackendApi.OllamaGenerate, """{"model":"m","prompt":"x"}""", true);

    [Fact]
    public async Task Stream_LineOverOneMebibyte_IsProtocolError()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync(async context =>
        {
            context.Response.ContentType = "application/x-ndjson";
            byte[] chunk = Encoding.ASCII.GetBytes(new string('x', 64 * 1024));
            for (int i = 0; i < 40 && !context.RequestAborted.IsCancellationRequested; i++)
            {
                await context.Response.Body.WriteAsync(chunk, context.RequestAborted);
            }
        });
        using IBackendClient client = BackendClientFactory.Create(BackendTestKit.Config(server.Endpoint));

        List<StreamEvent> events = await ReadAllAsync(client.Stream(Generate, Timeout()));

        StreamFailed failed = Assert.IsType<StreamFailed>(Assert.Single(events));
        Assert.Equal(BackendErrorKind.Protocol, failed.Error.Kind);
        Assert.False(failed.Error.IsRetryable);
    }

    [Fact]
    public async Task Stream_ChunksThatArriveTogether_SayWhichOneEndsTheBurst()
    {
        var firstBurstRead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using ScriptedServer server = await ScriptedServer.StartAsync(async context =>
        {
            context.Response.ContentType = "application/x-ndjson";
            await context.Response.WriteAsync("{\"response\":\"a\",\"done\":false}\n{\"response\":\"b\",\"done\":false}\n{\"response\":\"c\",\"done\":false}\n");
            await context.Response.Body.FlushAsync();
            await firstBurstRead.Task.WaitAsync(context.RequestAborted);
            await context.Response.WriteAsync("{\"response\":\"d\",\"done\":false}\n");
            await context.Response.Body.FlushAsync();
            await context.Response.WriteAsync("{\"response\":\"\",\"done\":true,\"eval_count\":4}\n");
        });
        using IBackendClient client = BackendClientFactory.Create(BackendTestKit.Config(server.Endpoint));
        var events = client.Stream(Generate, Timeout());

        var burst = new List<StreamChunk>();
        for (var i = 0; i < 3; i++)
        {
            burst.Add(Assert.IsType<StreamChunk>(await events.ReadAsync()));
        }

        firstBurstRead.SetResult();
        var rest = await ReadAllAsync(events);

        // One read brought three chunks: a surface may send them with one flush, after the third.
        Assert.Equal(["a", "b", "c"], burst.Select(c => c.Text));
        Assert.Equal([true, true, false], burst.Select(c => c.MoreFollows));
        // Whatever came later, the last chunk before the end never waits for a successor.
        Assert.Equal("d", Assert.IsType<StreamChunk>(rest[0]).Text);
        Assert.False(rest.OfType<StreamChunk>().Last().MoreFollows);
        // Ollama's "done" object is the last chunk and carries the completion that follows it, so
        // an answer delivered whole stays whole whatever happens to the call after it.
        var completed = Assert.IsType<StreamCompleted>(rest[^1]);
        Assert.Equal([null, completed], rest.OfType<StreamChunk>().Select(c => c.Completes));
    }

    [Fact]
    public async Task Stream_SseEventOverOneMebibyte_IsProtocolError()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync(async context =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\ndata: ");
            // One event without end: the client must give up before buffering it whole.
            byte[] chunk = Encoding.ASCII.GetBytes(new string('x', 64 * 1024));
            for (int i = 0; i < 40 && !context.RequestAborted.IsCancellationRequested; i++)
            {
                await context.Response.Body.WriteAsync(chunk, context.RequestAborted);
            }
        });
        using IBackendClient client = BackendClientFactory.Create(BackendTestKit.Config(server.Endpoint, "openai"));

        List<StreamEvent> events = await ReadAllAsync(client.Stream(
            Json(BackendApi.OpenAIChatCompletions, """{"model":"m","messages":[],"stream":true}""", true), Timeout()));

        Assert.Equal("a", Text(events));
        StreamFailed failed = Assert.IsType<StreamFailed>(events[^1]);
        Assert.Equal(BackendErrorKind.Protocol, failed.Error.Kind);
        Assert.False(failed.Error.IsRetryable);
    }

    [Fact]
    public async Task Stream_SseEventsThatArriveTogether_SayWhichOneEndsTheBurst()
    {
        var firstBurstRead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using ScriptedServer server = await ScriptedServer.StartAsync(async context =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync(Delta("a") + Delta("b") + Delta("c"));
            await context.Response.Body.FlushAsync();
            await firstBurstRead.Task.WaitAsync(context.RequestAborted);
            await context.Response.WriteAsync(Delta("d"));
            await context.Response.Body.FlushAsync();
            await context.Response.WriteAsync("data: [DONE]\n\n");
        });
        using IBackendClient client = BackendClientFactory.Create(BackendTestKit.Config(server.Endpoint, "openai"));
        var events = client.Stream(Json(BackendApi.OpenAIChatCompletions, """{"model":"m","messages":[],"stream":true}""", true), Timeout());

        var burst = new List<StreamChunk>();
        for (var i = 0; i < 3; i++)
        {
            burst.Add(Assert.IsType<StreamChunk>(await events.ReadAsync()));
        }

        firstBurstRead.SetResult();
        var rest = await ReadAllAsync(events);

        Assert.Equal(["a", "b", "c"], burst.Select(c => c.Text));
        Assert.Equal([true, true, false], burst.Select(c => c.MoreFollows));
        Assert.Equal("d", Assert.IsType<StreamChunk>(rest[0]).Text);
        Assert.IsType<StreamCompleted>(rest[^1]);

        static string Delta(string text) => "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + text + "\"}}]}\n\n";
    }

    [Fact]
    public async Task Stream_LineThatIsNotJson_IsProtocolError()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync(context =>
            context.Response.WriteAsync("{\"response\":\"a\",\"done\":false}\nnot json at all\n"));
        using IBackendClient client = BackendClientFactory.Create(BackendTestKit.Config(server.Endpoint));

        List<StreamEvent> events = await ReadAllAsync(client.Stream(Generate, Timeout()));

        Assert.Equal("a", Text(events));
        Assert.Equal(BackendErrorKind.Protocol, Assert.IsType<StreamFailed>(events[^1]).Error.Kind);
    }

    [Fact]
    public async Task Stream_ErrorLineMidStream_IsStreamBrokenWithTheMessage()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync(context =>
            context.Response.WriteAsync("{\"response\":\"a\",\"done\":false}\n{\"error\":\"llama runner process has terminated\"}\n"));
        using IBackendClient client = BackendClientFactory.Create(BackendTestKit.Config(server.Endpoint));

        List<StreamEvent> events = await ReadAllAsync(client.Stream(Generate, Timeout()));

        StreamFailed failed = Assert.IsType<StreamFailed>(events[^1]);
        Assert.Equal(BackendErrorKind.StreamBroken, failed.Error.Kind);
        Assert.Contains("llama runner process has terminated", failed.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stream_EndsWithoutFinalObject_IsStreamBroken()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync(context =>
            context.Response.WriteAsync("{\"response\":\"a\",\"done\":false}\n"));
        using IBackendClient client = BackendClientFactory.Create(BackendTestKit.Config(server.Endpoint));

        List<StreamEvent> events = await ReadAllAsync(client.Stream(Generate, Timeout()));

        Assert.Single(events.OfType<StreamChunk>());
        Assert.Equal(BackendErrorKind.StreamBroken, Assert.IsType<StreamFailed>(events[^1]).Error.Kind);
    }

    [Fact]
    public async Task Stream_SseWithCommentsAndMultilineData_IsParsed()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync(context =>
        {
            context.Response.ContentType = "text/event-stream";
            return context.Response.WriteAsync(
                ": keep-alive\r\n\r\n" +
                "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\r\n\r\n" +
                "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" there\"},\r\ndata: \"finish_reason\":\"stop\"}]}\n\n" +
                "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2}}\n\n" +
                "data: [DONE]\n\n");
        });
        using IBackendClient client = BackendClientFactory.Create(BackendTestKit.Config(server.Endpoint, "openai"));

        List<StreamEvent> events = await ReadAllAsync(client.Stream(
            Json(BackendApi.OpenAIChatCompletions, """{"model":"m","messages":[],"stream":true}""", true), Timeout()));

        Assert.Equal("Hi there", Text(events));
        Assert.Equal(3, events.OfType<StreamChunk>().Count());
        Assert.Equal(new BackendUsage(3, 2), Assert.IsType<StreamCompleted>(events[^1]).Usage);
    }

    [Fact]
    public async Task Send_StatusWithBody_KeepsTheBody()
    {
        await using ScriptedServer server = await ScriptedServer.StartAsync(context =>
        {
            context.Response.StatusCode = 500;
            return context.Response.WriteAsync("{\"error\":\"out of memory\"}");
        });
        using IBackendClient client = BackendClientFactory.Create(BackendTestKit.Config(server.Endpoint));

        var result = await client.SendAsync(Json(BackendApi.OllamaGenerate, """{"model":"m","prompt":"x","stream":false}""", false), Timeout());

        Assert.Equal(500, result.Error.StatusCode);
        Assert.True(result.Error.IsRetryable);
        Assert.Equal("{\"error\":\"out of memory\"}", Encoding.UTF8.GetString(result.Error.Body.Span));
    }
}
