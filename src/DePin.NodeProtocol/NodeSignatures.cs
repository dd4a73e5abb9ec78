using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using NBitcoin.Secp256k1;
using Nethereum.Signer;
using Nethereum.Util;
using SHA256 = System.Security.Cryptography.SHA256;

namespace DePin.NodeProtocol;

/// <summary>
/// The exact texts a node key and a payout key sign (EIP-191 personal messages, as any Ethereum wallet signs them),
/// and their verification by public-key recovery. Both sides build the text from the same fields, so a signature
/// made for one purpose (a login, a binding, a report) is never valid for another.
/// </summary>
/// <remarks>
/// Signing and recovery run on NBitcoin.Secp256k1 (a managed port of libsecp256k1 that Nethereum itself ships and uses
/// for recoverable signatures): the same RFC 6979 low-s signatures as Nethereum's BouncyCastle path, byte for byte, at a
/// fraction of the cost; BouncyCastle's big-integer arithmetic dominated the node gateway's CPU profile (one signature
/// per report on the agent, one recovery per report on the server, docs/benchmarks.md). Anything the fast recovery does
/// not accept goes through Nethereum's recovery as before, so what is valid has not changed.
/// </remarks>
public static class NodeSignatures
{
    private static readonly EthereumMessageSigner Signer = new();

    /// <summary>Login: the node key proves it holds the key, once per server nonce.</summary>
    public static string LoginMessage(string nodeAddress, string nonce, DateTimeOffset expiresAt) =>
        $"DePin.Orleans node login\nnode: {Lower(nodeAddress)}\nnonce: {nonce}\nexpires: {expiresAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)}";

    /// <summary>
    /// Payout binding: the payout address's owner agrees that this node earns for it. Signed once (e.g. in a wallet);
    /// replaying it can only bind the same node to the same address again.
    /// </summary>
    public static string PayoutBindingMessage(string nodeAddress, string payoutAddress) =>
        $"DePin.Orleans payout binding\nnode {Lower(nodeAddress)} earns for {Lower(payoutAddress)}";

    /// <summary>A report batch: the node signs which lease, unit and output digest (or error) it reports.</summary>
    public static string ReportMessage(string nodeId, IEnumerable<ReportedUnit> results)
    {
        var text = new StringBuilder("DePin.Orleans report\n").Append(nodeId).Append('\n');
        foreach (var r in results)
        {
            text.Append(r.LeaseId.ToString(CultureInfo.InvariantCulture)).Append(' ').Append(r.JobId).Append(' ')
                .Append(r.Index.ToString(CultureInfo.InvariantCulture)).Append(' ')
                .Append(r.Error is null ? r.Digest ?? "-" : "error:" + Sha256Hex(r.Error)).Append('\n');
        }
        return $"DePin.Orleans report\nnode: {nodeId}\nresults: {Sha256Hex(text.ToString())}";
    }

    /// <summary>Signs <paramref name="message"/> with <paramref name="key"/> (EIP-191): <c>0x</c>, r, s and v (27 or 28) in hex.</summary>
    public static string Sign(string message, EthECKey key)
    {
        var hash = Signer.HashPrefixedMessage(Encoding.UTF8.GetBytes(message));
        // The key's own cached bytes: read, never cleared (Nethereum keeps using them).
        if (ECPrivKey.TryCreate(key.GetPrivateKeyAsBytes(), out var privateKey))
        {
            using (privateKey)
            {
                if (privateKey!.TrySignRecoverable(hash, out var signature))
                {
                    Span<byte> bytes = stackalloc byte[65];
                    signature!.WriteToSpanCompact(bytes[..64], out var recoveryId);
                    bytes[64] = (byte)(27 + recoveryId);
                    return "0x" + Convert.ToHexStringLower(bytes);
                }
            }
        }
        return Signer.EncodeUTF8AndSign(message, key);
    }

    /// <summary>True when <paramref name="signature"/> over <paramref name="message"/> was made by <paramref name="address"/>'s key.
    /// A malformed signature is simply not valid.</summary>
    public static bool IsSignedBy(string message, string? signature, string address)
    {
        if (string.IsNullOrWhiteSpace(signature) || signature.Length > 200) return false;
        if (string.Equals(FastRecover(message, signature), address, StringComparison.OrdinalIgnoreCase)) return true;
        try
        {
            var signer = Signer.EncodeUTF8AndEcRecover(message, signature);
            return string.Equals(signer, address, StringComparison.OrdinalIgnoreCase);
        }
        catch (Exception)
        {
            return false;
        }
    }

    /// <summary>The signer's address of a 65-byte r‖s‖v signature with v of 27 or 28; null for any other form.</summary>
    private static string? FastRecover(string message, string signature)
    {
        var hex = signature.AsSpan(signature.StartsWith("0x", StringComparison.Ordinal) ? 2 : 0);
        Span<byte> bytes = stackalloc byte[65];
        if (hex.Length != 130 || Convert.FromHexString(hex, bytes, out _, out var written) != OperationStatus.Done || written != 65) return null;
        if (bytes[64] is not (27 or 28)) return null;
        if (!SecpRecoverableECDSASignature.TryCreateFromCompact(bytes[..64], bytes[64] - 27, out var recoverable)) return null;
        var hash = Signer.HashPrefixedMessage(Encoding.UTF8.GetBytes(message));
        if (!ECPubKey.TryRecover(Context.Instance, recoverable!, hash, out var publicKey)) return null;
        Span<byte> point = stackalloc byte[65];
        publicKey!.WriteToSpan(compressed: false, point, out _);
        var digest = Sha3Keccack.Current.CalculateHash(point[1..].ToArray());
        return "0x" + Convert.ToHexStringLower(digest.AsSpan(12));
    }

    private static string Lower(string address) => address.ToLowerInvariant();

    private static string Sha256Hex(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
