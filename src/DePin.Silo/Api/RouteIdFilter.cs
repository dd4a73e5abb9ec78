namespace DePin.Silo.Api;

/// <summary>
/// Refuses, with 400 problem+json, a route id no resource can have (blank, over <see cref="MaxLength"/> characters, or
/// with control characters) before it becomes a grain key: Orleans throws on a blank key, which would be a 500.
/// Applied once to every API group (<see cref="DePinApi.MapDePinApi"/>), so a new endpoint gets it too.
/// </summary>
public sealed class RouteIdFilter : IEndpointFilter
{
    /// <summary>Longest accepted route id (job ids are at most 64 characters, node ids under 80).</summary>
    public const int MaxLength = 256;

    /// <inheritdoc />
    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        foreach (var (name, value) in context.HttpContext.Request.RouteValues)
        {
            if (value is string id && !IsValid(id))
                return ValueTask.FromResult<object?>(ApiProblems.Problem(400, "Invalid id",
                    $"'{name}' must be 1 to {MaxLength} characters, not blank and without control characters."));
        }
        return next(context);
    }

    /// <summary>True for an id that could name a resource.</summary>
    public static bool IsValid(string id) => id.Length is > 0 and <= MaxLength && !string.IsNullOrWhiteSpace(id) && !id.Any(char.IsControl);
}
