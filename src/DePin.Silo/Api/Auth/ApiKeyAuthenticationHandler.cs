using System.Security.Claims;
using System.Text.Encodings.Web;
using DePin.Abstractions.Clients;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace DePin.Silo.Api.Auth;

/// <summary>
/// The <c>ApiKey</c> authentication scheme: <c>Authorization: Bearer dpk_…</c> or <c>X-Api-Key: dpk_…</c>. A bearer
/// token that is not an API key is left to other schemes (the node gateway's <c>NodeToken</c>). Challenges answer 401
/// problem+json with <c>WWW-Authenticate</c>, forbids 403 problem+json. Keys never reach a log.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyValidator validator) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    /// <summary>The header that may carry a key instead of Authorization.</summary>
    public const string HeaderName = "X-Api-Key";

    /// <summary>Claim type of the key id (also the principal's NameIdentifier).</summary>
    public const string KeyIdClaim = "depin:key_id";

    private const string InvalidKey = "The API key is not valid: it is unknown, revoked or malformed.";

    /// <inheritdoc />
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? presented = null;
        if (Request.Headers.TryGetValue(HeaderName, out var header) && header.Count > 0)
        {
            presented = header.ToString();
        }
        else if (Request.Headers.Authorization.ToString() is { Length: > 0 } authorization
            && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            var token = authorization["Bearer ".Length..].Trim();
            if (!token.StartsWith(ApiKeyFormat.Prefix, StringComparison.Ordinal)) return AuthenticateResult.NoResult();
            presented = token;
        }
        if (presented is null) return AuthenticateResult.NoResult();

        if (await validator.ValidateAsync(presented) is not { } key) return AuthenticateResult.Fail(InvalidKey);
        var role = RoleName(key.Role);
        var identity = new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, key.KeyId),
            new Claim(KeyIdClaim, key.KeyId),
            new Claim(ClaimTypes.Name, key.Name ?? key.KeyId),
            new Claim(ClaimTypes.Role, role),
        ], Scheme.Name);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name));
    }

    /// <inheritdoc />
    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        var invalid = result.Failure is not null;
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = invalid ? "Bearer realm=\"depin\", error=\"invalid_token\"" : "Bearer realm=\"depin\"";
        await Results.Problem(statusCode: 401, title: invalid ? "Invalid API key" : "API key required",
            detail: invalid ? InvalidKey : "This endpoint needs an API key: send 'Authorization: Bearer dpk_…' or 'X-Api-Key: dpk_…'.")
            .ExecuteAsync(Context);
    }

    /// <inheritdoc />
    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        await Results.Problem(statusCode: 403, title: "Forbidden",
            detail: $"This API key ({Context.User.FindFirstValue(ClaimTypes.Role) ?? "no"} role) may not {Request.Method} {Request.Path}; it needs an admin key.")
            .ExecuteAsync(Context);
    }

    /// <summary>The role claim value of a key role: <c>client</c> or <c>admin</c>.</summary>
    public static string RoleName(ApiKeyRole role) => role == ApiKeyRole.Admin ? DePinAuthentication.AdminPolicy : DePinAuthentication.ClientPolicy;
}
