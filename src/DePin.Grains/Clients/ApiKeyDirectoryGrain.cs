using DePin.Abstractions.Clients;
using Microsoft.Extensions.Options;

namespace DePin.Grains.Clients;

/// <summary>Persistent state of the <see cref="ApiKeyDirectoryGrain"/>.</summary>
[GenerateSerializer, Alias("depin.ApiKeyDirectoryState")]
public sealed class ApiKeyDirectoryState
{
    [Id(0)] public Dictionary<string, ApiKeyInfo> Keys { get; set; } = [];
}

/// <summary>
/// The list of API keys. Holds at most <see cref="ApiKeyStoreOptions.MaxKeys"/> active keys, and as many revoked
/// ones (the oldest revoked entries are forgotten first; their key grains still refuse them).
/// </summary>
public sealed class ApiKeyDirectoryGrain(
    [PersistentState("apikeys", StorageNames.Store)] IPersistentState<ApiKeyDirectoryState> state,
    IOptions<ApiKeyStoreOptions> options) : Grain, IApiKeyDirectoryGrain
{
    private int Capacity => options.Value.MaxKeys;
    private Dictionary<string, ApiKeyInfo> Keys => state.State.Keys;

    async Task<ApiKeyCreateOutcome> IApiKeyDirectoryGrain.CreateAsync(ApiKeyCredential credential)
    {
        var keyId = credential.Info.KeyId;
        if (!Keys.ContainsKey(keyId) && Keys.Values.Count(k => k.IsActive) >= Capacity)
            return new(ApiKeyCreateStatus.Full, null, $"{Capacity} API keys are active, the most this network allows (Auth:MaxKeys); revoke one first.");

        var key = GrainFactory.GetGrain<IApiKeyGrain>(keyId);
        switch (await key.RegisterAsync(credential))
        {
            case ApiKeyRegistration.Conflict:
                return new(ApiKeyCreateStatus.Conflict, null, $"Key id '{keyId}' is taken by another key or was revoked.");
            case ApiKeyRegistration.AlreadyRegistered when Keys.TryGetValue(keyId, out var known):
                return new(ApiKeyCreateStatus.AlreadyRegistered, known, null);
        }
        // Created now, or registered before but missing here (a write of this grain failed): list it.
        var info = (await key.GetCredentialAsync())!.Info;
        Keys[keyId] = info;
        ForgetOldRevokedKeys();
        await state.WriteStateAsync();
        return new(ApiKeyCreateStatus.Created, info, null);
    }

    async Task<ApiKeyRevokeOutcome> IApiKeyDirectoryGrain.RevokeAsync(string keyId)
    {
        if (!Keys.TryGetValue(keyId, out var info)) return new(ApiKeyRevokeStatus.NotFound, null);
        if (info is { IsActive: true, Role: ApiKeyRole.Admin } && Keys.Values.Count(k => k is { IsActive: true, Role: ApiKeyRole.Admin }) == 1)
            return new(ApiKeyRevokeStatus.LastAdmin, info);
        var revoked = await GrainFactory.GetGrain<IApiKeyGrain>(keyId).RevokeAsync() ?? info with { RevokedAt = DateTimeOffset.UtcNow };
        Keys[keyId] = revoked;
        ForgetOldRevokedKeys();
        await state.WriteStateAsync();
        return new(ApiKeyRevokeStatus.Revoked, revoked);
    }

    Task<IReadOnlyList<ApiKeyInfo>> IApiKeyDirectoryGrain.ListAsync(int offset, int limit) =>
        Task.FromResult<IReadOnlyList<ApiKeyInfo>>([.. Keys.Values
            .OrderByDescending(k => k.CreatedAt)
            .ThenBy(k => k.KeyId, StringComparer.Ordinal)
            .Skip(Math.Max(0, offset))
            .Take(Math.Clamp(limit, 0, 10_000))]);

    Task<ApiKeyInfo?> IApiKeyDirectoryGrain.GetAsync(string keyId) => Task.FromResult(Keys.GetValueOrDefault(keyId));

    Task<bool> IApiKeyDirectoryGrain.HasActiveAdminAsync() =>
        Task.FromResult(Keys.Values.Any(k => k is { IsActive: true, Role: ApiKeyRole.Admin }));

    private void ForgetOldRevokedKeys()
    {
        var revoked = Keys.Values.Where(k => !k.IsActive).ToList();
        if (revoked.Count <= Capacity) return;
        foreach (var old in revoked.OrderBy(k => k.RevokedAt).Take(revoked.Count - Capacity)) Keys.Remove(old.KeyId);
    }
}
