using System.Diagnostics.CodeAnalysis;

namespace DePin.Abstractions;

/// <summary>
/// EVM payout addresses, checked the same way at every boundary (API, node gateway, grains, options): <c>0x</c> + 40 hex
/// digits, not the zero address, and a valid EIP-55 checksum when written in mixed case; normalised to lower case.
/// </summary>
public static class PayoutAddress
{
    /// <summary>Validates and normalises an address.</summary>
    public static bool TryNormalize(string? value, [NotNullWhen(true)] out string? normalized)
    {
        normalized = null;
        if (value is null || value.Length != 42 || !value.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) return false;
        for (var i = 2; i < 42; i++)
        {
            if (!char.IsAsciiHexDigit(value[i])) return false;
        }
        // The zero address burns whatever is paid to it, and the Merkle distributor refuses it as a leaf.
        if (value.AsSpan(2).IndexOfAnyExcept('0') < 0) return false;
        // Mixed case is an EIP-55 checksum: a typo in it must not send earnings to an address nobody holds.
        var body = value.AsSpan(2);
        if (body.IndexOfAnyInRange('a', 'f') >= 0 && body.IndexOfAnyInRange('A', 'F') >= 0
            && !Nethereum.Util.AddressUtil.Current.IsChecksumAddress("0x" + value[2..])) return false;
        normalized = "0x" + value[2..].ToLowerInvariant();
        return true;
    }
}
