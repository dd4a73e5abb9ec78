using System.ComponentModel.DataAnnotations;

namespace DePin.Silo.Api.Auth;

/// <summary>API key settings, bound from the <c>Auth</c> configuration section.</summary>
public sealed class DePinAuthOptions : IValidatableObject
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Auth";

    /// <summary>
    /// An admin key registered at every start (idempotent), e.g. from a Kubernetes Secret (<c>DEPIN_Auth__AdminKey</c>).
    /// Format <c>dpk_&lt;16 hex&gt;_&lt;43 base64url&gt;</c> (docs/security-api.md shows how to make one).
    /// </summary>
    public string? AdminKey { get; set; }

    /// <summary>When no admin key is active at start, write an admin and a client key to <see cref="KeysDirectory"/>.</summary>
    public bool BootstrapKeys { get; set; } = true;

    /// <summary>Where bootstrap keys are written (<c>admin.key</c>, <c>client.key</c>, mode 0600); relative to the current directory.</summary>
    public string KeysDirectory { get; set; } = Path.Combine(".run", "keys");

    /// <summary>How long an API silo trusts a key it validated (and a revoke may take to reach it). At most 60 s; 0 = no cache.</summary>
    public TimeSpan CacheDuration { get; set; } = TimeSpan.FromSeconds(10);

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrWhiteSpace(AdminKey) && !ApiKeyFormat.TryParse(AdminKey, out _, out _))
            yield return new ValidationResult("Auth:AdminKey is not an API key: expected dpk_<16 lower-case hex digits>_<32 random bytes in base64url> (see docs/security-api.md)",
                [nameof(AdminKey)]);
        if (CacheDuration < TimeSpan.Zero || CacheDuration > TimeSpan.FromSeconds(60))
            yield return new ValidationResult($"Auth:CacheDuration '{CacheDuration}' must be between 0 and 00:01:00", [nameof(CacheDuration)]);
        if (BootstrapKeys && string.IsNullOrWhiteSpace(KeysDirectory))
            yield return new ValidationResult("Auth:KeysDirectory must name a directory when Auth:BootstrapKeys is true", [nameof(KeysDirectory)]);
    }
}
