using DePin.Abstractions.Clients;
using DePin.Silo.Api.Auth;
using DePin.Silo.Api.Contracts;
using static DePin.Silo.Api.ApiProblems;

namespace DePin.Silo.Api;

/// <summary><c>/keys</c> (admin): create an API key (its secret is shown once), list keys, revoke one.</summary>
public static class KeysEndpoints
{
    /// <summary>Longest key label.</summary>
    public const int MaxNameLength = 100;

    /// <summary>Maps the keys group.</summary>
    public static RouteGroupBuilder MapKeysEndpoints(this IEndpointRouteBuilder app)
    {
        var keys = app.MapGroup("/keys").WithTags("Keys").RequireAuthorization(DePinAuthentication.AdminPolicy);
        keys.MapPost("/", CreateAsync).WithName("createApiKey").WithSummary("Create an API key; the response holds the key, shown this once")
            .Produces<CreatedApiKey>(StatusCodes.Status201Created).ProducesProblem(400).ProducesProblem(409);
        keys.MapGet("/", ListAsync).WithName("listApiKeys").WithSummary("API keys, newest first (never their secrets)")
            .Produces<IReadOnlyList<ApiKeyInfo>>().ProducesProblem(400);
        keys.MapGet("/{keyId}", GetAsync).WithName("getApiKey").WithSummary("One API key (never its secret)").Produces<ApiKeyInfo>().ProducesProblem(404);
        keys.MapPost("/{keyId}/revoke", RevokeAsync).WithName("revokeApiKey").WithSummary("Revoke a key (every API silo refuses it within Auth:CacheDuration)")
            .Produces<ApiKeyInfo>().ProducesProblem(404).ProducesProblem(409);
        keys.MapDelete("/{keyId}", RevokeAsync).WithName("deleteApiKey").WithSummary("Revoke a key (same as POST /keys/{keyId}/revoke)")
            .Produces<ApiKeyInfo>().ProducesProblem(404).ProducesProblem(409);
        return keys;
    }

    private static async Task<IResult> CreateAsync(CreateApiKeyRequest? body, IGrainFactory grains, TimeProvider clock)
    {
        if (body?.Role is not { } roleText || !TryParseRole(roleText, out var role))
            return Problem(400, "Invalid key request", "'role' is required: \"client\" or \"admin\".");
        var name = string.IsNullOrWhiteSpace(body.Name) ? null : body.Name.Trim();
        if (name is { Length: > MaxNameLength } || (name is not null && name.Any(char.IsControl)))
            return Problem(400, "Invalid key request", $"'name' must be at most {MaxNameLength} printable characters.");

        var directory = grains.GetGrain<IApiKeyDirectoryGrain>(0);
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var (key, credential) = ApiKeyFormat.Generate(role, name, clock.GetUtcNow());
            var outcome = await directory.CreateAsync(credential);
            switch (outcome.Status)
            {
                case ApiKeyCreateStatus.Created:
                    var info = outcome.Key!;
                    return TypedResults.Created($"/keys/{info.KeyId}", new CreatedApiKey(key, info.KeyId, info.Role, info.Name, info.CreatedAt));
                case ApiKeyCreateStatus.Full:
                    return Problem(409, "Too many keys", outcome.Error!);
            }
            // A key id collision (64 random bits): draw again.
        }
        return Problem(409, "Key not created", "Could not draw an unused key id; try again.");
    }

    private static async Task<IResult> ListAsync(IGrainFactory grains, int? offset, int? limit)
    {
        if (InvalidPaging(offset, limit, 10_000) is { } problem) return problem;
        return TypedResults.Ok(await grains.GetGrain<IApiKeyDirectoryGrain>(0).ListAsync(offset ?? 0, limit ?? 1000));
    }

    private static async Task<IResult> GetAsync(string keyId, IGrainFactory grains) =>
        await grains.GetGrain<IApiKeyDirectoryGrain>(0).GetAsync(keyId) is { } info ? TypedResults.Ok(info) : KeyNotFound(keyId);

    private static async Task<IResult> RevokeAsync(string keyId, IGrainFactory grains, ApiKeyValidator validator)
    {
        var outcome = await grains.GetGrain<IApiKeyDirectoryGrain>(0).RevokeAsync(keyId);
        validator.Forget(keyId);
        return outcome.Status switch
        {
            ApiKeyRevokeStatus.Revoked => TypedResults.Ok(outcome.Key),
            ApiKeyRevokeStatus.LastAdmin => Problem(409, "Last admin key",
                $"Key '{keyId}' is the last active admin key; create another admin key before revoking it."),
            _ => KeyNotFound(keyId),
        };
    }

    private static bool TryParseRole(string text, out ApiKeyRole role)
    {
        role = text.Trim().ToLowerInvariant() switch
        {
            "client" => ApiKeyRole.Client,
            "admin" => ApiKeyRole.Admin,
            _ => 0,
        };
        return role != 0;
    }

    private static IResult KeyNotFound(string keyId) => Problem(404, "Unknown key", $"No API key has the id '{keyId}'.");
}
