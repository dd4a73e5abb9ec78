using Microsoft.AspNetCore.Http.HttpResults;

namespace DePin.Silo.Api;

/// <summary>The API's RFC 7807 problem+json answers, so the same mistake reads the same everywhere.</summary>
public static class ApiProblems
{
    /// <summary>A problem with a status, a short title and a detail that says what to fix.</summary>
    public static ProblemHttpResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: title);

    /// <summary>404 for a job id that does not exist (or is not the caller's).</summary>
    public static ProblemHttpResult JobNotFound(string jobId) => Problem(404, "Unknown job", $"No job '{jobId}' exists.");

    /// <summary>400 for a string that is not an EVM address.</summary>
    public static ProblemHttpResult MalformedAddress(string address) =>
        Problem(400, "Malformed address", $"'{address}' is not an EVM address (0x followed by 40 hex digits).");

    /// <summary>400 when <c>limit</c> or <c>offset</c> is out of range; null when both are fine.</summary>
    public static ProblemHttpResult? InvalidPaging(int? offset, int? limit, int maxLimit)
    {
        if (limit < 1 || limit > maxLimit) return Problem(400, "Invalid paging", $"'limit' must be between 1 and {maxLimit}.");
        if (offset is < 0) return Problem(400, "Invalid paging", "'offset' must not be negative.");
        return null;
    }
}
