using System.ComponentModel.DataAnnotations;

namespace DePin.Grains.Clients;

/// <summary>Bounds of the API key store, bound from the <c>Auth</c> configuration section.</summary>
public sealed class ApiKeyStoreOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Auth";

    /// <summary>Most active keys at once (<c>Auth:MaxKeys</c>); creating one more answers 409 until a key is revoked.</summary>
    [Range(1, 1_000_000)] public int MaxKeys { get; set; } = 10_000;
}
