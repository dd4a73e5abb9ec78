namespace DePin.Abstractions.Clients;

/// <summary>One API key, keyed by its public key id. Created and revoked through <see cref="IApiKeyDirectoryGrain"/>.</summary>
[Alias("depin.IApiKeyGrain")]
public interface IApiKeyGrain : IGrainWithStringKey
{
    /// <summary>
    /// Stores the key. Registering the same credential again (same role and secret hash) is a no-op that answers
    /// <see cref="ApiKeyRegistration.AlreadyRegistered"/>; any other key under this id is a <see cref="ApiKeyRegistration.Conflict"/>.
    /// </summary>
    [Alias("Register")] Task<ApiKeyRegistration> RegisterAsync(ApiKeyCredential credential);

    /// <summary>The stored credential, or null when no key has this id.</summary>
    [Alias("GetCredential")] Task<ApiKeyCredential?> GetCredentialAsync();

    /// <summary>Revokes the key (idempotent); null when no key has this id.</summary>
    [Alias("Revoke")] Task<ApiKeyInfo?> RevokeAsync();
}

/// <summary>Outcome of <see cref="IApiKeyGrain.RegisterAsync"/>.</summary>
public enum ApiKeyRegistration
{
    /// <summary>Stored now.</summary>
    Created = 1,
    /// <summary>This very credential was stored before (and is not revoked).</summary>
    AlreadyRegistered = 2,
    /// <summary>Another key, or a revoked one, holds this id.</summary>
    Conflict = 3,
}
