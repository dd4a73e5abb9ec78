using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Nethereum.Signer;

namespace DePin.NodeProtocol;

/// <summary>
/// The exact texts a node key and a payout key sign (EIP-191 personal messages, as any Ethereum wallet signs them),
/// and their verification by public-key recovery. Both sides build the text from the same fields, so a signature
/// made for one purpose (a login, a binding, a report) is never valid for another.
/// </summary>
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

    /// <summary>Signs <paramref name="message"/> with <paramref name="key"/> (EIP-191).</summary>
    public static string Sign(string message, EthECKey key) => Signer.EncodeUTF8AndSign(message, key);

    /// <summary>True when <paramref name="signature"/> over <paramref name="message"/> was made by <paramref name="address"/>'s key.
    /// A malformed signature is simply not valid.</summary>
    public static bool IsSignedBy(string message, string? signature, string address)
    {
        if (string.IsNullOrWhiteSpace(signature) || signature.Length > 200) return false;
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

    private static string Lower(string address) => address.ToLowerInvariant();

    private static string Sha256Hex(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
