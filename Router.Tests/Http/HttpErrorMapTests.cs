using System.Text;
using System.Text.Json;
using Router.Actors.Backends;
using Router.Actors.Inference;
using Router.Actors.Routing;
using Router.Gateway.Http;

namespace Router.Tests.Http;

public sealed class HttpErrorMapTests
{
    [Theory]
    [InlineData(RouteFailureKind.UnknownTarget, 400, null)]
    [InlineData(RouteFailureKind.ModelNotAvailable, 404, null)]
    [InlineData(RouteFailureKind.NoHealthyBackend, 503, 5)]
    [InlineData(RouteFailureKind.PowerBudgetExceeded, 503, 5)]
    [InlineData(RouteFailureKind.LatencyBudgetExceeded, 503, 5)]
    [InlineData(RouteFailureKind.ExcludedByMode, 503, 5)]
    [InlineData(RouteFailureKind.TooHot, 503, 5)]
    [InlineData(RouteFailureKind.QueueFull, 429, 5)]
    public void FromRoute_EachKind_MapsToItsStatusAndRetryAfter(RouteFailureKind kind, int status, int? retrySeconds)
    {
        var error = HttpErrorMap.FromInference(InferenceError.FromRoute(new RouteFailure(kind, "because")));

        Assert.Equal(status, error.Status);
        Assert.Equal("because", error.Message);
        Assert.Equal(retrySeconds, error.RetryAfter is { } retry ? (int)retry.TotalSeconds : null);
    }

    [Fact]
    public void FromRoute_RouterGivesRetryAfter_ItIsUsed()
    {
        var error = HttpErrorMap.FromRoute(new RouteFailure(RouteFailureKind.QueueFull, "full", TimeSpan.FromMilliseconds(1500)));

        Assert.Equal(TimeSpan.FromMilliseconds(1500), error.RetryAfter);
        Assert.Equal(2, HttpError.RetrySeconds(error.RetryAfter!.Value));
    }

    [Theory]
    [InlineData(BackendErrorKind.HttpStatus, 400, 400)]
    [InlineData(BackendErrorKind.HttpStatus, 404, 404)]
    [InlineData(BackendErrorKind.HttpStatus, 422, 422)]
    [InlineData(BackendErrorKind.HttpStatus, 500, 502)]
    [InlineData(BackendErrorKind.HttpStatus, 503, 502)]
    [InlineData(BackendErrorKind.HttpStatus, null, 502)]
    [InlineData(BackendErrorKind.ConnectFailed, null, 502)]
    [InlineData(BackendErrorKind.Timeout, null, 502)]
    [InlineData(BackendErrorKind.Protocol, null, 502)]
    [InlineData(BackendErrorKind.StreamBroken, null, 502)]
    [InlineData(BackendErrorKind.NotSupported, null, 502)]
    public void FromBackend_EachKind_ClientErrorsPassOtherwiseBadGateway(BackendErrorKind kind, int? backendStatus, int status)
    {
        var error = HttpErrorMap.FromInference(InferenceError.FromBackend(new BackendError(kind, "backend trouble", backendStatus)));

        Assert.Equal(status, error.Status);
        Assert.Equal("backend trouble", error.Message);
        Assert.Null(error.RetryAfter);
    }

    [Fact]
    public void FromBackend_Preempted_Is503WithRetryAfter()
    {
        var error = HttpErrorMap.FromInference(InferenceError.FromBackend(new BackendError(BackendErrorKind.Preempted, "shed for critical work")));

        Assert.Equal(503, error.Status);
        Assert.Equal("preempted", error.Code);
        Assert.NotNull(error.RetryAfter);
    }

    [Theory]
    [InlineData("{\"error\":\"model 'x' not found\"}", "model 'x' not found")]
    [InlineData("{\"error\":{\"message\":\"context too long\",\"type\":\"invalid_request_error\"}}", "context too long")]
    [InlineData("plain words", "plain words")]
    public void FromBackend_4xxWithBody_UsesBackendsMessage(string body, string message)
    {
        var error = HttpErrorMap.FromBackend(new BackendError(BackendErrorKind.HttpStatus, "HTTP 400", 400, Encoding.UTF8.GetBytes(body)));

        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void ToJson_OpenAIFlavor_HasMessageTypeParamCode()
    {
        var json = HttpErrorMap.MissingField("messages", "the conversation").ToJson(ApiFlavor.OpenAI);

        using var document = JsonDocument.Parse(json);
        var error = document.RootElement.GetProperty("error");
        Assert.Contains("'messages' is required", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal("messages", error.GetProperty("param").GetString());
        Assert.Equal("missing_field", error.GetProperty("code").GetString());
    }

    [Fact]
    public void ToJson_OllamaFlavor_IsErrorString()
    {
        var json = HttpErrorMap.BodyTooLarge(100).ToJson(ApiFlavor.Ollama);

        using var document = JsonDocument.Parse(json);
        Assert.Equal(JsonValueKind.String, document.RootElement.GetProperty("error").ValueKind);
        Assert.Contains("100 bytes", document.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
    }
}
