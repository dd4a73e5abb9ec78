namespace DePin.Abstractions.Clients;

/// <summary>
/// The list of API keys (key 0): creation and revocation go through it so that listing is exact and the number of
/// active keys stays bounded (<c>Auth:MaxKeys</c>). Validation of a presented key never touches it.
/// </summary>
[Alias("depin.IApiKeyDirectoryGrain")]
public interface IApiKeyDirectoryGrain : IGrainWithIntegerKey
{
    /// <summary>Registers a new key (or confirms an identical one), unless the directory is full.</summary>
    [Alias("Create")] Task<ApiKeyCreateOutcome> CreateAsync(ApiKeyCredential credential);

    /// <summary>Revokes a key; refuses to revoke the last active admin key.</summary>
    [Alias("Revoke")] Task<ApiKeyRevokeOutcome> RevokeAsync(string keyId);

    /// <summary>Keys, newest first.</summary>
    [Alias("List")] Task<IReadOnlyList<ApiKeyInfo>> ListAsync(int offset, int limit);

    /// <summary>One key's public facts, or null.</summary>
    [Alias("Get")] Task<ApiKeyInfo?> GetAsync(string keyId);

    /// <summary>True when at least one admin key is active (start-up bootstrap asks this).</summary>
    [Alias("HasActiveAdmin")] Task<bool> HasActiveAdminAsync();
}

/// <summary>Outcome of <see cref="IApiKeyDirectoryGrain.CreateAsync"/>.</summary>
[GenerateSerializer, Immutable, Alias("depin.ApiKeyCreateOutcome")]
public sealed record ApiKeyCreateOutcome(
    [property: Id(0)] ApiKeyCreateStatus Status,
    [property: Id(1)] ApiKeyInfo? Key,
    [property: Id(2)] string? Error);

/// <summary>Whether a key was created.</summary>
public enum ApiKeyCreateStatus
{
    /// <summary>Created now.</summary>
    Created = 1,
    /// <summary>The same key was already registered: nothing changed.</summary>
    AlreadyRegistered = 2,
    /// <summary>The id is taken by another key, or the key was revoked.</summary>
    Conflict = 3,
    /// <summary><c>Auth:MaxKeys</c> keys are active: revoke one first.</summary>
    Full = 4,
}

/// <summary>Outcome of <see cref="IApiKeyDirectoryGrain.RevokeAsync"/>.</summary>
[GenerateSerializer, Immutable, Alias("depin.ApiKeyRevokeOutcome")]
public sealed record ApiKeyRevokeOutcome(
    [property: Id(0)] ApiKeyRevokeStatus Status,
    [property: Id(1)] ApiKeyInfo? Key);

/// <summary>Whether a key was revoked.</summary>
public enum ApiKeyRevokeStatus
{
    /// <summary>Revoked now, or already revoked before.</summary>
    Revoked = 1,
    /// <summary>No key has this id.</summary>
    NotFound = 2,
    /// <summary>Refused: it is the last active admin key, and revoking it would lock every operator out.</summary>
    LastAdmin = 3,
}
