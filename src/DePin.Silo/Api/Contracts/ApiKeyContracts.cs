using DePin.Abstractions.Clients;

namespace DePin.Silo.Api.Contracts;

/// <summary>Body of <c>POST /keys</c>.</summary>
public sealed record CreateApiKeyRequest
{
    /// <summary><c>client</c> or <c>admin</c>.</summary>
    public string? Role { get; init; }

    /// <summary>A label: who or what uses the key (at most 100 characters).</summary>
    public string? Name { get; init; }
}

/// <summary>A key just created: the only time its secret is shown.</summary>
/// <param name="Key">The full key, <c>dpk_&lt;keyId&gt;_&lt;secret&gt;</c>: store it now, it cannot be shown again.</param>
/// <param name="KeyId">The public key id (listing, revoking, job ownership).</param>
/// <param name="Role">Client or admin.</param>
/// <param name="Name">The label.</param>
/// <param name="CreatedAt">When it was created.</param>
public sealed record CreatedApiKey(string Key, string KeyId, ApiKeyRole Role, string? Name, DateTimeOffset CreatedAt);
