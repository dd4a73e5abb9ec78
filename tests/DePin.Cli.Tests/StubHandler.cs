using System.Net;
using System.Text;

namespace DePin.Cli.Tests;

/// <summary>An in-test HTTP server substitute: routes requests to a delegate and records them.</summary>
internal sealed class StubHandler(Func<HttpRequestMessage, HttpResponseMessage> respond) : HttpMessageHandler
{
    public List<(HttpMethod Method, string PathAndQuery, string? Body)> Requests { get; } = [];

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
        lock (Requests) Requests.Add((request.Method, request.RequestUri!.PathAndQuery, body));
        var response = respond(request);
        response.RequestMessage = request;
        return response;
    }

    public static HttpResponseMessage Json(string json, HttpStatusCode status = HttpStatusCode.OK) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    public static HttpResponseMessage Problem(HttpStatusCode status, string title, string detail) =>
        new(status)
        {
            Content = new StringContent(
                $$"""{"type":"https://tools.ietf.org/html/rfc9110","title":"{{title}}","status":{{(int)status}},"detail":"{{detail}}"}""",
                Encoding.UTF8, "application/problem+json"),
        };

    public static string JobJson(string id, string status, int done, int total, string kernel = "saxpy") =>
        $$"""{"jobId":"{{id}}","kernel":"{{kernel}}","status":"{{status}}","unitCount":{{total}},"unitsCompleted":{{done}},"redundancy":1,"priority":0,"pricePerUnitMicroCredits":1000,"priceMicroCredits":{{1000 * total}},"submittedAt":"2025-01-01T00:00:00+00:00","startedAt":null,"finishedAt":null,"error":null,"resultSummary":null,"resultDigest":null,"resultContentType":null,"progress":{{(total == 0 ? 0 : (double)done / total).ToString(System.Globalization.CultureInfo.InvariantCulture)}}}""";
}
