using System.Security.Cryptography;
using DePin.Abstractions.Clients;

namespace DePin.Grains.Clients;

/// <summary>Persistent state of an <see cref="ApiKeyGrain"/>.</summary>
[GenerateSerializer, Alias("depin.ApiKeyState")]
public sealed class ApiKeyState
{
    [Id(0)] public ApiKeyCredential? Credential { get; set; }
}

/// <summary>One API key: its role, label, dates and the SHA-256 of its secret (never the secret).</summary>
public sealed class ApiKeyGrain(
    [PersistentState("apikey", StorageNames.Store)] IPersistentState<ApiKeyState> state,
    TimeProvider clock) : Grain, IApiKeyGrain
{
    async Task<ApiKeyRegistration> IApiKeyGrain.RegisterAsync(ApiKeyCredential credential)
    {
        if (state.State.Credential is { } existing)
        {
            var same = existing.Info.IsActive && existing.Info.Role == credential.Info.Role
                && CryptographicOperations.FixedTimeEquals(existing.SecretHash, credential.SecretHash);
            return same ? ApiKeyRegistration.AlreadyRegistered : ApiKeyRegistration.Conflict;
        }
        state.State.Credential = credential with { Info = credential.Info with { KeyId = this.GetPrimaryKeyString(), RevokedAt = null } };
        await state.WriteStateAsync();
        return ApiKeyRegistration.Created;
    }

    Task<ApiKeyCredential?> IApiKeyGrain.GetCredentialAsync() => Task.FromResult(state.State.Credential);

    async Task<ApiKeyInfo?> IApiKeyGrain.RevokeAsync()
    {
        if (state.State.Credential is not { } credential) return null;
        if (!credential.Info.IsActive) return credential.Info;
        state.State.Credential = credential with { Info = credential.Info with { RevokedAt = clock.GetUtcNow() } };
        await state.WriteStateAsync();
        return state.State.Credential.Info;
    }
}
