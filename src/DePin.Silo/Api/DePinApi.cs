using System.Text.Json;
using System.Text.Json.Serialization;

namespace DePin.Silo.Api;

/// <summary>
/// The HTTP API (minimal APIs), one file per resource group, each with its authorization policy
/// (<see cref="Auth.DePinAuthentication"/>; an endpoint without one needs a client key). Every client error is an RFC 7807 problem+json with a
/// message saying what to fix (<see cref="ApiProblems"/>); a refused request writes nothing.
/// </summary>
public static class DePinApi
{
    /// <summary>Default largest request body (<c>Api:MaxRequestBytes</c>); kernels check their own input limits after parsing.</summary>
    public const long DefaultMaxRequestBytes = 64L << 20;

    /// <summary>JSON conventions of the API: camelCase, enums as strings.</summary>
    public static void ConfigureJson(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        // Numbers are JSON numbers, never strings: what the OpenAPI document promises typed clients.
        options.NumberHandling = JsonNumberHandling.Strict;
        options.Converters.Add(new JsonStringEnumConverter());
    }

    /// <summary>Maps every endpoint of the API: the one entry the host calls. Route ids are checked once for all (<see cref="RouteIdFilter"/>).</summary>
    public static IEndpointRouteBuilder MapDePinApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("").AddEndpointFilter<RouteIdFilter>();
        api.MapCatalogEndpoints();
        api.MapJobsEndpoints();
        api.MapNodesEndpoints();
        api.MapRewardsEndpoints();
        api.MapKeysEndpoints();
        return app;
    }
}
