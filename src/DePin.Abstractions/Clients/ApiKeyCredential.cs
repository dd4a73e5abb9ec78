namespace DePin.Abstractions.Clients;

/// <summary>
/// A key as stored: its public facts and the SHA-256 of its secret part. The secret itself is never stored; an
/// API silo hashes the presented secret and compares the hashes in constant time.
/// </summary>
[GenerateSerializer, Immutable, Alias("depin.ApiKeyCredential")]
public sealed record ApiKeyCredential(
    [property: Id(0)] ApiKeyInfo Info,
    [property: Id(1)] byte[] SecretHash);
