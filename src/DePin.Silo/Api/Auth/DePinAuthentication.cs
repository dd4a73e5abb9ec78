using System.Security.Claims;
using DePin.Grains.Clients;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;

namespace DePin.Silo.Api.Auth;

/// <summary>
/// Authentication and authorization of the API, configured in one place: the <c>ApiKey</c> scheme (default), the
/// <see cref="ClientPolicy"/> and <see cref="AdminPolicy"/> policies, and a fallback policy that makes every endpoint
/// without its own policy need a client key (public endpoints say <c>AllowAnonymous</c>).
/// </summary>
public static class DePinAuthentication
{
    /// <summary>The API key authentication scheme.</summary>
    public const string ApiKeyScheme = "ApiKey";

    /// <summary>Policy: any valid key (client or admin role).</summary>
    public const string ClientPolicy = "client";

    /// <summary>Policy: an admin key.</summary>
    public const string AdminPolicy = "admin";

    /// <summary>
    /// Registers the API key scheme (default scheme), its validator and options (<c>Auth</c>), the key store bound
    /// (<c>Auth:MaxKeys</c>), the per-key quotas (<c>Api:Quota</c>) and the <c>client</c>/<c>admin</c> policies.
    /// Returns the builder so that other schemes can be chained on (e.g. <c>.AddJwtBearer("NodeToken", …)</c>).
    /// </summary>
    public static AuthenticationBuilder AddDePinAuthentication(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DePinAuthOptions>().BindConfiguration(DePinAuthOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ApiKeyStoreOptions>().BindConfiguration(ApiKeyStoreOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ClientQuotaOptions>().BindConfiguration(ClientQuotaOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<ApiKeyValidator>();
        services.AddAuthorizationBuilder()
            .AddPolicy(ClientPolicy, p => p.AddAuthenticationSchemes(ApiKeyScheme).RequireAuthenticatedUser().RequireRole(ClientPolicy, AdminPolicy))
            .AddPolicy(AdminPolicy, p => p.AddAuthenticationSchemes(ApiKeyScheme).RequireAuthenticatedUser().RequireRole(AdminPolicy))
            .SetFallbackPolicy(new AuthorizationPolicyBuilder(ApiKeyScheme).RequireAuthenticatedUser().RequireRole(ClientPolicy, AdminPolicy).Build());
        return services.AddAuthentication(ApiKeyScheme)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyScheme, null);
    }

    /// <summary>On API silos: at start, register <c>Auth:AdminKey</c> and, when no admin key exists, write bootstrap keys.</summary>
    public static IServiceCollection AddApiKeyBootstrap(this IServiceCollection services)
    {
        services.AddHostedService<ApiKeyBootstrap>();
        return services;
    }

    /// <summary>The calling key's id, or null when the request carries no valid key.</summary>
    public static string? ApiKeyId(this ClaimsPrincipal user) => user.FindFirstValue(ApiKeyAuthenticationHandler.KeyIdClaim);

    /// <summary>True when the caller holds an admin key.</summary>
    public static bool IsAdmin(this ClaimsPrincipal user) => user.IsInRole(AdminPolicy);
}
