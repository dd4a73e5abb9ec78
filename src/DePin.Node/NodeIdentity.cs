using System.Security.Cryptography;
using System.Text.Json;
using DePin.NodeProtocol;
using Nethereum.KeyStore;
using Nethereum.Signer;

namespace DePin.Node;

/// <summary>
/// A node agent's identity on disk (one directory, mode 0700): <c>keystore.json</c> (the node's secp256k1 key,
/// scrypt-encrypted with Nethereum's keystore), <c>node.json</c> (node address, payout address and the payout owner's
/// binding signature — public facts), and, only when no password was supplied at init, <c>password</c> (mode 0600).
/// </summary>
public sealed class NodeIdentity
{
    /// <summary>Environment variable holding the keystore password.</summary>
    public const string PasswordVariable = "DEPIN_NODE_PASSWORD";
    private const string KeystoreFile = "keystore.json";
    private const string InfoFile = "node.json";
    private const string PasswordFile = "password";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    private NodeIdentity(EthECKey key, NodeInfo info)
    {
        Key = key;
        Info = info;
    }

    /// <summary>The node key.</summary>
    public EthECKey Key { get; }

    /// <summary>Public facts: addresses and the payout binding.</summary>
    public NodeInfo Info { get; }

    /// <summary>The node key's address (lower-case).</summary>
    public string Address => Info.NodeAddress;

    /// <summary>The default directory: <c>$DEPIN_NODE_HOME</c> or <c>~/.depin/node</c>.</summary>
    public static string DefaultDirectory =>
        Environment.GetEnvironmentVariable("DEPIN_NODE_HOME") is { Length: > 0 } home
            ? home
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".depin", "node");

    /// <summary>The public facts of a node, as stored in <c>node.json</c>.</summary>
    public sealed record NodeInfo(string NodeAddress, string PayoutAddress, string PayoutSignature);

    /// <summary>True when <paramref name="directory"/> holds an identity.</summary>
    public static bool Exists(string directory) => File.Exists(Path.Combine(directory, KeystoreFile));

    /// <summary>The payout binding text the payout owner signs (e.g. in a wallet) for a node key.</summary>
    public static string BindingMessage(string nodeAddress, string payoutAddress) => NodeSignatures.PayoutBindingMessage(nodeAddress, payoutAddress);

    /// <summary>
    /// Creates a new node key and stores it encrypted. The payout binding is either signed here with
    /// <paramref name="payoutKey"/>, or given as <paramref name="payoutSignature"/> (made elsewhere, e.g. by a wallet,
    /// over <see cref="BindingMessage"/> — which needs the node address, so that flow is: init with a key, or re-bind).
    /// </summary>
    /// <returns>The identity and whether a password file was generated.</returns>
    public static (NodeIdentity Identity, bool GeneratedPassword) Create(string directory, string payoutAddress, EthECKey? payoutKey,
        string? payoutSignature, string? password, int scryptN = 262144)
    {
        if (Exists(directory)) throw new InvalidOperationException($"{directory} already holds a node identity ({KeystoreFile}); remove it or choose another --dir.");
        var key = EthECKey.GenerateKey();
        var address = key.GetPublicAddress().ToLowerInvariant();
        payoutAddress = payoutAddress.ToLowerInvariant();
        payoutSignature ??= payoutKey is not null
            ? NodeSignatures.Sign(BindingMessage(address, payoutAddress), payoutKey)
            : throw new ArgumentException("The payout binding needs the payout key or a signature made with it.");
        if (!NodeSignatures.IsSignedBy(BindingMessage(address, payoutAddress), payoutSignature, payoutAddress))
            throw new ArgumentException($"The payout binding is not signed by the key of {payoutAddress}.");

        Directory.CreateDirectory(directory);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var generated = password is null;
        if (password is null)
        {
            password = Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));
            WritePrivate(Path.Combine(directory, PasswordFile), password);
        }
        var kdf = new Nethereum.KeyStore.Model.ScryptParams { N = scryptN, R = 8, P = 1, Dklen = 32 };
        WritePrivate(Path.Combine(directory, KeystoreFile),
            new KeyStoreScryptService().EncryptAndGenerateKeyStoreAsJson(password, key.GetPrivateKeyAsBytes(), address, kdf));
        var info = new NodeInfo(address, payoutAddress, payoutSignature);
        File.WriteAllText(Path.Combine(directory, InfoFile), JsonSerializer.Serialize(info, Json));
        return (new NodeIdentity(key, info), generated);
    }

    /// <summary>Loads and decrypts an identity. The password comes from <paramref name="password"/>, else the generated password file.</summary>
    /// <exception cref="InvalidOperationException">No identity, no password, or the wrong password.</exception>
    public static NodeIdentity Load(string directory, string? password)
    {
        if (!Exists(directory)) throw new InvalidOperationException($"No node identity in {directory}: run `depin node init` first.");
        var info = ReadInfo(directory);
        var passwordPath = Path.Combine(directory, PasswordFile);
        password ??= File.Exists(passwordPath) ? File.ReadAllText(passwordPath).Trim()
            : throw new InvalidOperationException($"The keystore password is needed: set {PasswordVariable} or pass --password-file.");
        byte[] secret;
        try
        {
            secret = new KeyStoreService().DecryptKeyStoreFromJson(password, File.ReadAllText(Path.Combine(directory, KeystoreFile)));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new InvalidOperationException($"The keystore in {directory} could not be decrypted (wrong password?).");
        }
        try
        {
            var key = new EthECKey(secret, true);
            if (!string.Equals(key.GetPublicAddress(), info.NodeAddress, StringComparison.OrdinalIgnoreCase))
                throw new InvalidOperationException($"{InfoFile} does not belong to the key in {KeystoreFile}.");
            return new NodeIdentity(key, info);
        }
        finally
        {
            Array.Clear(secret);
        }
    }

    /// <summary>Reads the public facts only (no password needed).</summary>
    public static NodeInfo ReadInfo(string directory) =>
        JsonSerializer.Deserialize<NodeInfo>(File.ReadAllText(Path.Combine(directory, InfoFile)), Json)
        ?? throw new InvalidOperationException($"{Path.Combine(directory, InfoFile)} is empty.");

    private static void WritePrivate(string path, string content)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var stream = new FileStream(path, options);
        using var writer = new StreamWriter(stream);
        writer.Write(content);
    }
}
