using System.Net;

namespace DePin.Client;

/// <summary>The API answered with a non-success status; <see cref="Title"/> and <see cref="Detail"/> come from its RFC 7807 problem.</summary>
public sealed class DePinApiException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DePinApiException(HttpStatusCode statusCode, string title, string? detail)
        : base(detail is null ? $"{(int)statusCode} {title}" : $"{(int)statusCode} {title}: {detail}")
    {
        StatusCode = statusCode;
        Title = title;
        Detail = detail;
    }

    /// <summary>HTTP status code.</summary>
    public HttpStatusCode StatusCode { get; }
    /// <summary>Problem title (or the reason phrase when the body was not a problem).</summary>
    public string Title { get; }
    /// <summary>Problem detail, if any.</summary>
    public string? Detail { get; }
}

/// <summary>The downloaded result does not hash to the digest the server announced.</summary>
public sealed class ResultDigestMismatchException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ResultDigestMismatchException(string jobId, string expected, string actual)
        : base($"The result of job '{jobId}' is corrupt: its SHA-256 is {actual} but the server announced {expected}.")
    {
        JobId = jobId;
        Expected = expected;
        Actual = actual;
    }

    /// <summary>Job id.</summary>
    public string JobId { get; }
    /// <summary>Digest announced by the server (X-Result-Digest).</summary>
    public string Expected { get; }
    /// <summary>Digest of the received bytes.</summary>
    public string Actual { get; }
}
