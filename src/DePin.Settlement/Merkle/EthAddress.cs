using System.Globalization;

namespace DePin.Settlement.Merkle;

/// <summary>Strict Ethereum address parsing (0x + 40 hex digits, EIP-55 checksum enforced for mixed case).</summary>
public static class EthAddress
{
    /// <summary>The zero address.</summary>
    public const string Zero = "0x0000000000000000000000000000000000000000";

    /// <summary>
    /// Validates <paramref name="address"/> and returns it in lower case. Throws <see cref="ArgumentException"/> for
    /// a null/malformed value or a mixed-case value whose EIP-55 checksum is wrong.
    /// </summary>
    public static string Normalize(string? address, string paramName = "address")
    {
        if (address is null) throw new ArgumentException("Address is null.", paramName);
        if (address.Length != 42 || address[0] != '0' || (address[1] != 'x' && address[1] != 'X'))
            throw new ArgumentException($"Invalid Ethereum address '{address}': expected 0x followed by 40 hex digits.", paramName);
        bool hasUpper = false, hasLower = false;
        for (int i = 2; i < 42; i++)
        {
            char c = address[i];
            if (c is >= '0' and <= '9') continue;
            if (c is >= 'a' and <= 'f') { hasLower = true; continue; }
            if (c is >= 'A' and <= 'F') { hasUpper = true; continue; }
            throw new ArgumentException($"Invalid Ethereum address '{address}': '{c}' is not a hex digit.", paramName);
        }
        string lower = "0x" + address[2..].ToLowerInvariant();
        if (hasUpper && hasLower && ToChecksum(lower) != "0x" + address[2..])
            throw new ArgumentException($"Invalid Ethereum address '{address}': EIP-55 checksum mismatch (expected {ToChecksum(lower)}).", paramName);
        return lower;
    }

    /// <summary>Returns the 20 address bytes of a validated address.</summary>
    public static byte[] ToBytes(string address, string paramName = "address") =>
        Convert.FromHexString(Normalize(address, paramName).AsSpan(2));

    /// <summary>EIP-55 mixed-case checksum form.</summary>
    public static string ToChecksum(string address)
    {
        string lower = Normalize(address.ToLowerInvariant());
        var hex = lower.AsSpan(2);
        Span<byte> ascii = stackalloc byte[40];
        for (int i = 0; i < 40; i++) ascii[i] = (byte)hex[i];
        Span<byte> hash = stackalloc byte[32];
        Keccak256.Hash(ascii, hash);
        var chars = new char[42];
        chars[0] = '0'; chars[1] = 'x';
        for (int i = 0; i < 40; i++)
        {
            int nibble = (i % 2 == 0) ? hash[i / 2] >> 4 : hash[i / 2] & 0x0f;
            char c = hex[i];
            chars[i + 2] = nibble >= 8 ? char.ToUpper(c, CultureInfo.InvariantCulture) : c;
        }
        return new string(chars);
    }

    /// <summary>Case-insensitive address equality (both must be valid).</summary>
    public static bool AreEqual(string a, string b) =>
        string.Equals(Normalize(a, nameof(a)), Normalize(b, nameof(b)), StringComparison.Ordinal);
}
