using System.Security.Cryptography;
using System.Text.Json;
using DePin.Abstractions.Jobs;
using static DePin.Silo.Api.ApiProblems;

namespace DePin.Silo.Api;

/// <summary>
/// Parses a job request body (<c>POST /jobs</c>, <c>POST /jobs/quote</c>) itself instead of model binding, to give a
/// precise problem+json message for each wrong field.
/// </summary>
internal static class JobRequestReader
{
    /// <summary>Parses the body; on failure returns the problem to send instead.</summary>
    public static async Task<(JobRequest? Request, IResult? Problem)> ReadAsync(HttpContext http)
    {
        JsonDocument body;
        try
        {
            body = await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted);
        }
        catch (JsonException ex)
        {
            return (null, Problem(400, "Malformed JSON", $"The request body is not valid JSON: {ex.Message}"));
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            var limit = http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize;
            return (null, Problem(413, "Request too large", $"The request body exceeds the limit of {limit} bytes."));
        }

        using (body)
        {
            try
            {
                return Read(body.RootElement);
            }
            catch (InvalidOperationException)
            {
                // JsonElement.GetString throws on a lone surrogate escape ("\ud800"): valid JSON, not a valid string.
                return Invalid("Strings in the request must be valid UTF-16 (no lone surrogate escapes).");
            }
        }
    }

    private static (JobRequest? Request, IResult? Problem) Read(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) return Invalid("The request body must be a JSON object.");
        if (!root.TryGetProperty("kernel", out var kernel) || kernel.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(kernel.GetString()))
            return Invalid("'kernel' is required and must be a string naming a catalog kernel (GET /kernels).");
        if (!root.TryGetProperty("parameters", out var parameters) || parameters.ValueKind != JsonValueKind.Object)
            return Invalid("'parameters' is required and must be a JSON object.");
        if (!TryGetInt(root, "redundancy", 1, out var redundancy)) return Invalid("'redundancy' must be an integer.");
        if (!TryGetInt(root, "priority", 0, out var priority)) return Invalid("'priority' must be an integer.");
        long? maxPrice = null;
        if (root.TryGetProperty("maxPriceMicroCredits", out var mp) && mp.ValueKind != JsonValueKind.Null)
        {
            if (mp.ValueKind != JsonValueKind.Number || !mp.TryGetInt64(out var m) || m < 0)
                return Invalid("'maxPriceMicroCredits' must be a non-negative integer.");
            maxPrice = m;
        }
        JobRequirements? requirements = null;
        if (root.TryGetProperty("requirements", out var req) && req.ValueKind != JsonValueKind.Null)
        {
            if (ReadRequirements(req, out requirements) is { } error) return Invalid(error);
        }

        return (new JobRequest
        {
            Kernel = kernel.GetString()!,
            ParametersJson = parameters.GetRawText(),
            Redundancy = redundancy,
            Priority = priority,
            MaxPriceMicroCredits = maxPrice,
            Requirements = requirements,
        }, null);
    }

    private static (JobRequest?, IResult?) Invalid(string detail) => (null, Problem(400, "Invalid job", detail));

    /// <summary>
    /// SHA-256 of the parsed request (kernel, parameters text, redundancy, priority, budget, requirements): what tells
    /// a retry from a different request under the same Idempotency-Key.
    /// </summary>
    public static string Digest(JobRequest request) => Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(request)));

    private static string? ReadRequirements(JsonElement element, out JobRequirements? requirements)
    {
        requirements = null;
        if (element.ValueKind != JsonValueKind.Object) return "'requirements' must be an object with deviceKinds, minMemoryBytes and/or minGflops.";
        var kinds = new List<string>();
        if (element.TryGetProperty("deviceKinds", out var k) && k.ValueKind != JsonValueKind.Null)
        {
            if (k.ValueKind != JsonValueKind.Array || k.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
                return "'requirements.deviceKinds' must be an array of strings (Cuda, OpenCL, IlgpuCpu, VectorCpu).";
            kinds.AddRange(k.EnumerateArray().Select(e => e.GetString()!));
        }
        long? memory = null;
        if (element.TryGetProperty("minMemoryBytes", out var m) && m.ValueKind != JsonValueKind.Null)
        {
            if (m.ValueKind != JsonValueKind.Number || !m.TryGetInt64(out var v)) return "'requirements.minMemoryBytes' must be an integer.";
            memory = v;
        }
        double? gflops = null;
        if (element.TryGetProperty("minGflops", out var g) && g.ValueKind != JsonValueKind.Null)
        {
            if (g.ValueKind != JsonValueKind.Number) return "'requirements.minGflops' must be a number.";
            gflops = g.GetDouble();
        }
        requirements = new JobRequirements { DeviceKinds = kinds, MinMemoryBytes = memory, MinGflops = gflops };
        return null;
    }

    private static bool TryGetInt(JsonElement root, string name, int fallback, out int value)
    {
        value = fallback;
        if (!root.TryGetProperty(name, out var p) || p.ValueKind == JsonValueKind.Null) return true;
        return p.ValueKind == JsonValueKind.Number && p.TryGetInt32(out value);
    }
}
