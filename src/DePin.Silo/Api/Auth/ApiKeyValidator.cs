using System.Security.Cryptography;
using DePin.Abstractions.Clients;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace DePin.Silo.Api.Auth;

/// <summary>
/// Checks presented API keys against the key grains, with a short in-memory cache per key id (positive and negative)
/// of <c>Auth:CacheDuration</c> (10 s): a revoke takes effect on every API silo within that time, at once on the silo
/// that served it. The secret's hash is compared in constant time.
/// </summary>
public sealed class ApiKeyValidator(IGrainFactory grains, IOptions<DePinAuthOptions> options) : IDisposable
{
    private readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = 100_000 });
    private readonly TimeSpan _ttl = options.Value.CacheDuration;

    /// <summary>The key's public facts when <paramref name="presented"/> is a valid, active key; else null.</summary>
    public async ValueTask<ApiKeyInfo?> ValidateAsync(string presented)
    {
        if (!ApiKeyFormat.TryParse(presented, out var keyId, out var hash)) return null;
        if (!_cache.TryGetValue(keyId, out ApiKeyCredential? credential))
        {
            credential = await grains.GetGrain<IApiKeyGrain>(keyId).GetCredentialAsync();
            if (_ttl > TimeSpan.Zero)
                _cache.Set(keyId, credential, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = _ttl });
        }
        if (credential is not { Info.IsActive: true }) return null;
        return CryptographicOperations.FixedTimeEquals(credential.SecretHash, hash) ? credential.Info : null;
    }

    /// <summary>Drops a key from this silo's cache (after a revoke here).</summary>
    public void Forget(string keyId) => _cache.Remove(keyId);

    /// <inheritdoc />
    public void Dispose() => _cache.Dispose();
}
