using DePin.NodeProtocol;
using Nethereum.Signer;

namespace DePin.Tests.NodeGateway;

/// <summary>
/// The fast secp256k1 path of <see cref="NodeSignatures"/> against Nethereum's own EIP-191 signer and recovery: the same
/// signatures byte for byte, and the same verdict on tampered ones.
/// </summary>
public sealed class NodeSignaturesTests
{
    private static readonly EthereumMessageSigner Nethereum = new();

    [Fact]
    public void Signatures_are_nethereums_byte_for_byte_and_verify()
    {
        for (var i = 0; i < 64; i++)
        {
            var key = EthECKey.GenerateKey();
            var secret = key.GetPrivateKeyAsBytes().ToArray();
            var message = NodeSignatures.LoginMessage(key.GetPublicAddress(), $"nonce-{i}", DateTimeOffset.UnixEpoch.AddDays(i));
            var signature = NodeSignatures.Sign(message, key);
            Assert.Equal(Nethereum.EncodeUTF8AndSign(message, key), signature);
            // Signing again with the same key object gives the same signature and leaves the key as it was.
            Assert.Equal(signature, NodeSignatures.Sign(message, key));
            Assert.Equal(secret, key.GetPrivateKeyAsBytes());
            Assert.True(NodeSignatures.IsSignedBy(message, signature, key.GetPublicAddress()));
            Assert.True(NodeSignatures.IsSignedBy(message, signature, key.GetPublicAddress().ToLowerInvariant()));
            Assert.False(NodeSignatures.IsSignedBy(message + ".", signature, key.GetPublicAddress()));
            Assert.False(NodeSignatures.IsSignedBy(message, signature, EthECKey.GenerateKey().GetPublicAddress()));
        }
    }

    [Fact]
    public void Tampered_signatures_get_the_same_verdict_as_nethereums_recovery()
    {
        var key = EthECKey.GenerateKey();
        var address = key.GetPublicAddress();
        const string message = "DePin.Orleans report\nnode: n\nresults: r";
        var signature = NodeSignatures.Sign(message, key);
        var flippedV = signature[..^2] + (signature.EndsWith("1b", StringComparison.Ordinal) ? "1c" : "1b");
        var zeroOneV = signature[..^2] + (signature.EndsWith("1b", StringComparison.Ordinal) ? "00" : "01");
        var flippedS = signature[..100] + (signature[100] == '0' ? '1' : '0') + signature[101..];
        string[] cases = [flippedV, zeroOneV, flippedS, signature[2..], signature.ToUpperInvariant().Replace("0X", "0x"), signature[..^2], "0x" + new string('0', 130), "not hex"];
        foreach (var tampered in cases)
        {
            bool expected;
            try { expected = string.Equals(Nethereum.EncodeUTF8AndEcRecover(message, tampered), address, StringComparison.OrdinalIgnoreCase); }
            catch (Exception) { expected = false; }
            Assert.True(expected == NodeSignatures.IsSignedBy(message, tampered, address), $"verdict differs for {tampered}");
        }
    }
}
