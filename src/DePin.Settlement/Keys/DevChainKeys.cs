namespace DePin.Settlement.Keys;

/// <summary>
/// PUBLIC, WELL-KNOWN development keys: anvil/hardhat's default accounts derived from the mnemonic
/// "test test test test test test test test test test test junk". They are printed by every anvil start and
/// published everywhere; anything sent to them on a real network is stolen within seconds.
/// ONLY for local dev chains (chain id 31337) and tests. Never use them in a production configuration.
/// </summary>
public static class DevChainKeys
{
    /// <summary>Chain id of a default anvil node.</summary>
    public const long AnvilChainId = 31337;

    /// <summary>PUBLIC dev account #0 private key (anvil default; NOT A SECRET, dev chains only).</summary>
    public const string Account0PrivateKey = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
    /// <summary>Address of dev account #0.</summary>
    public const string Account0Address = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

    /// <summary>PUBLIC dev account #1 private key (anvil default; NOT A SECRET, dev chains only).</summary>
    public const string Account1PrivateKey = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
    /// <summary>Address of dev account #1.</summary>
    public const string Account1Address = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

    /// <summary>PUBLIC dev account #2 private key (anvil default; NOT A SECRET, dev chains only).</summary>
    public const string Account2PrivateKey = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
    /// <summary>Address of dev account #2.</summary>
    public const string Account2Address = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";

    /// <summary>Dev account #0 as a settler key. Throws unless <paramref name="chainId"/> is the local anvil chain.</summary>
    public static SettlerKey Account0(long chainId = AnvilChainId)
    {
        if (chainId != AnvilChainId)
            throw new InvalidOperationException($"The public dev key must not be used on chain {chainId}; it is only for the local dev chain {AnvilChainId}.");
        return SettlerKey.FromPrivateKey(Account0PrivateKey);
    }
}
