using System.Numerics;
using DePin.Grains.Settlement;
using DePin.Settlement;
using DePin.Settlement.DevChain;
using DePin.Settlement.Keys;
using Microsoft.Extensions.Options;

namespace DePin.Silo.Settlement;

/// <summary>
/// Connects the silo's <see cref="SettlementGateway"/> to a chain at start-up. DevChain: starts anvil on a free
/// loopback port, deploys the reward token and distributor with anvil's public dev key #0, funds the distributor.
/// External: the configured distributor, with the settler key decrypted from a keystore.
/// </summary>
public sealed class SettlementSetup(
    SettlementGateway gateway,
    IOptions<SettlementHostOptions> options,
    ILogger<SettlementSetup> logger) : IHostedService, IAsyncDisposable
{
    private AnvilNode? _anvil;

    /// <summary>The dev chain, when this silo runs one.</summary>
    public AnvilNode? DevChain => _anvil;

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        switch (o.Mode)
        {
            case SettlementMode.Off:
                logger.LogInformation("Settlement is off: epochs are recorded as NotSent (set Settlement:Mode to DevChain or External)");
                return;
            case SettlementMode.DevChain:
                await StartDevChainAsync(o, cancellationToken);
                return;
            case SettlementMode.External when !CanSettle(o):
                // A shared configuration (k8s ConfigMap) may say External on every silo; only those with the key mounted settle.
                logger.LogWarning("Settlement:Mode is External but this silo has no settler keystore at '{Path}': it will not settle; silos that have one do",
                    o.KeystorePath);
                return;
            case SettlementMode.External:
                var key = SettlerKeySource.Load(new SettlerKeyOptions
                {
                    KeystorePath = o.KeystorePath ?? throw new InvalidOperationException("Settlement:KeystorePath is required in External mode"),
                    PasswordFile = o.KeystorePasswordFile,
                    PasswordEnvironmentVariable = o.KeystorePasswordEnvironmentVariable ?? "DEPIN_SETTLER_KEYSTORE_PASSWORD",
                });
                gateway.Configure(ChainOptions(o, o.RpcUrl ?? "", o.DistributorAddress ?? "", o.TokenAddress), key, o.WeiPerMicroCredit);
                logger.LogInformation("Settlement on chain {ChainId} via {Rpc}: distributor {Distributor}, settler {Settler}",
                    o.ChainId, Api.RedactedUrl.Of(o.RpcUrl), o.DistributorAddress, key.Address);
                return;
        }
    }

    private async Task StartDevChainAsync(SettlementHostOptions o, CancellationToken cancellationToken)
    {
        string binary;
        try
        {
            binary = AnvilNode.FindBinary();
        }
        catch (Exception ex)
        {
            throw new InvalidOperationException($"Settlement:Mode=DevChain needs the anvil binary from npm (run `npm ci` in the repository root): {ex.Message}", ex);
        }
        _anvil = await AnvilNode.StartAsync(new AnvilOptions { BinaryPath = binary, Port = o.DevChainPort == 0 ? null : o.DevChainPort }, cancellationToken);

        // The public, well-known anvil dev key: only ever valid on the local dev chain (chain id 31337).
        var key = DevChainKeys.Account0(_anvil.ChainId);
        var contracts = new SettlementContracts(_anvil.RpcUrl, key, _anvil.ChainId);
        var deployment = await contracts.DeployAsync(cancellationToken: cancellationToken);
        var funding = new BigInteger(o.DevChainFundingTokens) * BigInteger.Pow(10, 18);
        await contracts.MintAsync(deployment.TokenAddress, key.Address, funding, cancellationToken);
        await contracts.FundDistributorAsync(deployment, funding, cancellationToken);

        gateway.Configure(ChainOptions(o, _anvil.RpcUrl, deployment.DistributorAddress, deployment.TokenAddress, _anvil.ChainId), key, o.WeiPerMicroCredit);
        logger.LogInformation("Dev chain (anvil) at {Rpc}: token {Token}, distributor {Distributor} funded with {Tokens} tokens",
            _anvil.RpcUrl, deployment.TokenAddress, deployment.DistributorAddress, o.DevChainFundingTokens);
    }

    private static SettlementOptions ChainOptions(SettlementHostOptions o, string rpcUrl, string distributor, string? token, long? chainId = null) => new()
    {
        RpcUrl = rpcUrl,
        DistributorAddress = distributor,
        TokenAddress = token,
        ChainId = chainId ?? o.ChainId,
        Confirmations = o.Confirmations,
        ReceiptTimeout = TimeSpan.FromSeconds(30),
    };

    /// <summary>Whether a silo with these settings can settle: DevChain, or External with the settler keystore present.</summary>
    public static bool CanSettle(SettlementHostOptions options) => options.Mode switch
    {
        SettlementMode.DevChain => true,
        SettlementMode.External => !string.IsNullOrWhiteSpace(options.KeystorePath) && File.Exists(options.KeystorePath),
        _ => false,
    };

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync();

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_anvil is { } anvil)
        {
            _anvil = null;
            await anvil.DisposeAsync();
        }
    }
}
