using Nethereum.KeyStore;

namespace DePin.Settlement.Keys;

/// <summary>
/// Loads the settler key from an encrypted Web3 Secret Storage keystore file (scrypt or pbkdf2, as written by
/// geth/clef/Nethereum/foundry `cast wallet`). The password comes from an environment variable or from a mounted
/// secret file (e.g. a Kubernetes secret volume); it is never taken from configuration text.
/// </summary>
public static class SettlerKeySource
{
    /// <summary>Decrypts <paramref name="keystorePath"/> with the password held in environment variable <paramref name="passwordEnvironmentVariable"/>.</summary>
    public static SettlerKey FromKeystoreWithPasswordEnvironment(string keystorePath, string passwordEnvironmentVariable)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(passwordEnvironmentVariable);
        var password = Environment.GetEnvironmentVariable(passwordEnvironmentVariable);
        if (string.IsNullOrEmpty(password))
            throw new InvalidOperationException($"Keystore password environment variable '{passwordEnvironmentVariable}' is not set or empty.");
        return FromKeystore(keystorePath, password);
    }

    /// <summary>Decrypts <paramref name="keystorePath"/> with the password read from <paramref name="passwordFile"/> (trailing newline ignored).</summary>
    public static SettlerKey FromKeystoreWithPasswordFile(string keystorePath, string passwordFile)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(passwordFile);
        if (!File.Exists(passwordFile)) throw new FileNotFoundException($"Keystore password file '{passwordFile}' not found.", passwordFile);
        var password = File.ReadAllText(passwordFile).TrimEnd('\r', '\n');
        if (password.Length == 0) throw new InvalidOperationException($"Keystore password file '{passwordFile}' is empty.");
        return FromKeystore(keystorePath, password);
    }

    /// <summary>
    /// Resolves a key from a <see cref="SettlerKeyOptions"/>: keystore + (password file, else password environment variable).
    /// </summary>
    public static SettlerKey Load(SettlerKeyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.KeystorePath)) throw new InvalidOperationException("SettlerKeyOptions.KeystorePath is required.");
        if (!string.IsNullOrWhiteSpace(options.PasswordFile)) return FromKeystoreWithPasswordFile(options.KeystorePath, options.PasswordFile);
        if (!string.IsNullOrWhiteSpace(options.PasswordEnvironmentVariable))
            return FromKeystoreWithPasswordEnvironment(options.KeystorePath, options.PasswordEnvironmentVariable);
        throw new InvalidOperationException("SettlerKeyOptions needs PasswordFile or PasswordEnvironmentVariable.");
    }

    /// <summary>Decrypts a keystore file with a password.</summary>
    public static SettlerKey FromKeystore(string keystorePath, string password)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(keystorePath);
        ArgumentNullException.ThrowIfNull(password);
        if (!File.Exists(keystorePath)) throw new FileNotFoundException($"Keystore file '{keystorePath}' not found.", keystorePath);
        var json = File.ReadAllText(keystorePath);
        byte[] key;
        try
        {
            key = new KeyStoreService().DecryptKeyStoreFromJson(password, json);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidOperationException($"Cannot decrypt keystore '{keystorePath}': wrong password or corrupt file ({e.GetType().Name}).", e);
        }
        try
        {
            return SettlerKey.FromPrivateKey(key);
        }
        finally
        {
            Array.Clear(key);
        }
    }

    /// <summary>Writes <paramref name="key"/> as a scrypt keystore (for provisioning tools and tests).</summary>
    /// <param name="key">Key to store.</param>
    /// <param name="password">Encryption password.</param>
    /// <param name="path">Output file.</param>
    /// <param name="scryptN">scrypt cost (262144 = geth standard; tests use a small value).</param>
    public static void WriteKeystore(SettlerKey key, string password, string path, int scryptN = 262144)
    {
        ArgumentNullException.ThrowIfNull(key);
        var service = new KeyStoreScryptService();
        var kdf = new Nethereum.KeyStore.Model.ScryptParams { N = scryptN, R = 8, P = 1, Dklen = 32 };
        var json = service.EncryptAndGenerateKeyStoreAsJson(password, key.EcKey.GetPrivateKeyAsBytes(), key.Address, kdf);
        File.WriteAllText(path, json);
    }
}

/// <summary>Where the settler key lives (bind from configuration; contains no secret itself).</summary>
public sealed class SettlerKeyOptions
{
    /// <summary>Path of the encrypted keystore JSON file.</summary>
    public string? KeystorePath { get; set; }
    /// <summary>Path of a mounted secret file holding the password (preferred).</summary>
    public string? PasswordFile { get; set; }
    /// <summary>Name of the environment variable holding the password.</summary>
    public string? PasswordEnvironmentVariable { get; set; } = "DEPIN_SETTLER_KEYSTORE_PASSWORD";
}
