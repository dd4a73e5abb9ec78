using System.Diagnostics.CodeAnalysis;

namespace DePin.Abstractions;

/// <summary>EVM payout addresses: <c>0x</c> + 40 hex digits, normalised to lower case.</summary>
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
        normalized = "0x" + value[2..].ToLowerInvariant();
        return true;
    }
}
