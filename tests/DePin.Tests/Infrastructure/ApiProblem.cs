using System.Net;
using System.Text.Json;

namespace DePin.Tests.Infrastructure;

/// <summary>Assertions on RFC 7807 answers.</summary>
public static class ApiProblem
{
    /// <summary>Asserts a problem+json with <paramref name="status"/> and returns its detail.</summary>
    public static async Task<string> AssertAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var doc = JsonDocument.Parse(body);
        Assert.Equal((int)status, doc.RootElement.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(doc.RootElement.GetProperty("title").GetString()));
        return doc.RootElement.GetProperty("detail").GetString()!;
    }
}
