namespace DePin.Abstractions.Clients;

/// <summary>The public facts of an API key (never its secret): what listing and revoking show.</summary>
[GenerateSerializer, Immutable, Alias("depin.ApiKeyInfo")]
public sealed record ApiKeyInfo
{
    /// <summary>The public key id (the middle part of <c>dpk_&lt;keyId&gt;_&lt;secret&gt;</c>); jobs record it as their owner.</summary>
    [Id(0)] public required string KeyId { get; init; }

    /// <summary>Client or admin.</summary>
    [Id(1)] public ApiKeyRole Role { get; init; }

    /// <summary>A label chosen at creation (who or what uses the key).</summary>
    [Id(2)] public string? Name { get; init; }

    /// <summary>When the key was created.</summary>
    [Id(3)] public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the key was revoked; null while it is valid.</summary>
    [Id(4)] public DateTimeOffset? RevokedAt { get; init; }

    /// <summary>True until revoked.</summary>
    public bool IsActive => RevokedAt is null;
}
