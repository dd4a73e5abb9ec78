using DePin.Settlement.Merkle;
using Nethereum.Signer;

namespace DePin.Settlement.Keys;

/// <summary>A private key able to sign settlement transactions. <see cref="ToString"/> never prints the key.</summary>
public sealed class SettlerKey
{
    private readonly EthECKey _key;

    private SettlerKey(EthECKey key)
    {
        _key = key;
        Address = EthAddress.ToChecksum(key.GetPublicAddress());
    }

    /// <summary>EIP-55 address of the key.</summary>
    public string Address { get; }

    /// <summary>The key for Nethereum signers (keep in memory only).</summary>
    public EthECKey EcKey => _key;

    /// <summary>Hex private key (0x-prefixed) for Nethereum's <c>Account</c>; never log it.</summary>
    public string PrivateKeyHex => _key.GetPrivateKey();

    /// <summary>From a 32-byte hex private key.</summary>
    public static SettlerKey FromPrivateKey(string privateKeyHex)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(privateKeyHex);
        var s = privateKeyHex.Trim();
        var hex = s.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? s[2..] : s;
        if (hex.Length != 64 || !hex.All(Uri.IsHexDigit))
            throw new ArgumentException("A private key must be 32 bytes of hex.", nameof(privateKeyHex));
        return new SettlerKey(new EthECKey(hex));
    }

    /// <summary>From raw private key bytes.</summary>
    public static SettlerKey FromPrivateKey(byte[] privateKey)
    {
        ArgumentNullException.ThrowIfNull(privateKey);
        if (privateKey.Length != 32) throw new ArgumentException("A private key must be 32 bytes.", nameof(privateKey));
        return new SettlerKey(new EthECKey(privateKey, true));
    }

    /// <summary>A fresh random key (tests, new deployments).</summary>
    public static SettlerKey Generate() => new(EthECKey.GenerateKey());

    /// <inheritdoc />
    public override string ToString() => $"SettlerKey({Address})";
}
