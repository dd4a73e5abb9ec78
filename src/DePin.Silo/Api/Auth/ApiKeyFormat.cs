using System.Buffers.Text;
using System.Security.Cryptography;
using DePin.Abstractions.Clients;

namespace DePin.Silo.Api.Auth;

/// <summary>
/// API keys look like <c>dpk_&lt;keyId&gt;_&lt;secret&gt;</c>: <c>keyId</c> is 16 lower-case hex digits (public: listing,
/// revoking, job ownership), <c>secret</c> is 32 random bytes (256 bits) in base64url without padding (43 characters).
/// Only SHA-256 of the secret's bytes is stored.
/// </summary>
public static class ApiKeyFormat
{
    /// <summary>Every key starts with this.</summary>
    public const string Prefix = "dpk_";

    private const int KeyIdLength = 16;
    private const int SecretBytes = 32;

    /// <summary>A new random key (shown once) and what is stored for it.</summary>
    public static (string Key, ApiKeyCredential Credential) Generate(ApiKeyRole role, string? name, DateTimeOffset now)
    {
        var keyId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(KeyIdLength / 2));
        var secret = RandomNumberGenerator.GetBytes(SecretBytes);
        var key = $"{Prefix}{keyId}_{Base64Url.EncodeToString(secret)}";
        var credential = new ApiKeyCredential(new ApiKeyInfo { KeyId = keyId, Role = role, Name = name, CreatedAt = now }, SHA256.HashData(secret));
        CryptographicOperations.ZeroMemory(secret);
        return (key, credential);
    }

    /// <summary>Splits a presented key into its id and the SHA-256 of its secret; false when it is not shaped like a key.</summary>
    public static bool TryParse(string? text, out string keyId, out byte[] secretHash)
    {
        keyId = "";
        secretHash = [];
        var span = text.AsSpan().Trim();
        if (!span.StartsWith(Prefix, StringComparison.Ordinal)) return false;
        span = span[Prefix.Length..];
        if (span.Length <= KeyIdLength || span[KeyIdLength] != '_') return false;
        var id = span[..KeyIdLength];
        foreach (var c in id)
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c)) return false;
        Span<byte> secret = stackalloc byte[SecretBytes];
        if (!Base64Url.TryDecodeFromChars(span[(KeyIdLength + 1)..], secret, out var written) || written != SecretBytes) return false;
        keyId = id.ToString();
        secretHash = SHA256.HashData(secret);
        CryptographicOperations.ZeroMemory(secret);
        return true;
    }

    /// <summary>The public key id of a presented key, or null.</summary>
    public static string? KeyIdOf(string? text) => TryParse(text, out var keyId, out _) ? keyId : null;
}
