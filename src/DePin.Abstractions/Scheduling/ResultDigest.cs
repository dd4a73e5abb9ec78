using System.Security.Cryptography;

namespace DePin.Abstractions.Scheduling;

/// <summary>The digest a node sends with a unit's output and the shard checks: lower-case hex SHA-256.</summary>
public static class ResultDigest
{
    /// <summary>Lower-case hex SHA-256 of <paramref name="output"/>.</summary>
    public static string Of(ReadOnlySpan<byte> output) => Convert.ToHexStringLower(SHA256.HashData(output));
}
