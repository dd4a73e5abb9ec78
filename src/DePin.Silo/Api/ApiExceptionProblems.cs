using System.Text;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Net.Http.Headers;

namespace DePin.Silo.Api;

/// <summary>
/// Errors that reach the host's pipeline rather than an endpoint's own validation, as problem+json: a request the server
/// could not read (<see cref="BadHttpRequestException"/>: a body cut short, over the size limit, unbindable) gets its
/// own 4xx instead of a 500, a body in a charset nobody can decode gets 415, and status code pages (routing's 404 and
/// 405, a bare 401 from the node token scheme) are problem+json whatever the Accept header asks for.
/// </summary>
public sealed class ApiExceptionProblems : IExceptionHandler
{
    /// <inheritdoc />
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken cancellationToken)
    {
        if (http.Response.HasStarted) return false;
        if (IsTransient(exception))
        {
            // Storage or a silo was unavailable for a moment (a Redis failover, a silo that just died): nothing the
            // client sent was wrong and nothing half done is kept, so it is told to retry rather than given a 500.
            http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            http.Response.Headers.RetryAfter = "1";
            await Results.Problem(statusCode: 503, title: "Temporarily unavailable",
                detail: "The cluster could not complete the request because storage or a silo was briefly unavailable; retry it (with the same Idempotency-Key for a submission).").ExecuteAsync(http);
            return true;
        }
        if (exception is not BadHttpRequestException bad) return false;
        http.Response.StatusCode = bad.StatusCode;
        await Results.Problem(statusCode: bad.StatusCode, title: "Unreadable request", detail: bad.Message).ExecuteAsync(http);
        return true;
    }

    /// <summary>Failures of the cluster's own machinery (storage, silo messaging, timeouts), not of the request.</summary>
    private static bool IsTransient(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is TimeoutException or Orleans.Runtime.OrleansException or StackExchange.Redis.RedisException
                or DePin.Grains.Storage.ActivationReplacedException or DePin.Silo.Hosting.InjectedStorageFaultException)
                return true;
        }
        return false;
    }

    /// <summary>Writes a status code page (an error answer without a body) as problem+json.</summary>
    public static Task WriteStatusCodePageAsync(StatusCodeContext context)
    {
        var http = context.HttpContext;
        var status = http.Response.StatusCode;
        return Results.Problem(statusCode: status, detail: status switch
        {
            404 => $"Nothing is at {http.Request.Path}.",
            405 => $"{http.Request.Path} does not accept {http.Request.Method}.",
            _ => null,
        }).ExecuteAsync(http);
    }

    /// <summary>Answers 415 problem+json to a body whose Content-Type names a charset .NET cannot decode (binding would throw).</summary>
    public static async Task RefuseUnknownCharsetsAsync(HttpContext http, RequestDelegate next)
    {
        if (MediaTypeHeaderValue.TryParse(http.Request.ContentType, out var type) && type.Charset.HasValue && !IsKnown(type.Charset.Value!))
        {
            http.Response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            await Results.Problem(statusCode: 415, title: "Unsupported charset",
                detail: "The Content-Type names a charset that is not known; send UTF-8 JSON.").ExecuteAsync(http);
            return;
        }
        await next(http);
    }

    private static bool IsKnown(string charset)
    {
        try
        {
            _ = Encoding.GetEncoding(HeaderUtilities.RemoveQuotes(charset).ToString());
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
