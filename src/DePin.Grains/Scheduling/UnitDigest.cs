using System.Security.Cryptography;

namespace DePin.Grains.Scheduling;

/// <summary>The digest every unit output is stored and verified under.</summary>
public static class UnitDigest
{
    /// <summary>Lower-case hex SHA-256.</summary>
    public static string Of(ReadOnlySpan<byte> output) => Convert.ToHexStringLower(SHA256.HashData(output));
}
