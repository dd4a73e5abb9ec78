using System.Diagnostics;
using System.Numerics;
using DePin.Settlement;
using DePin.Settlement.DevChain;
using DePin.Settlement.Keys;

namespace DePin.Settlement.Tests;

/// <summary>One anvil (automine) per test class. Missing anvil = failure telling to run `npm ci`.</summary>
public sealed class AnvilFixture : IAsyncLifetime
{
    public AnvilNode Node { get; private set; } = null!;
    public SettlerKey Owner { get; } = DevChainKeys.Account0();
    public SettlementContracts Contracts { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Node = await AnvilNode.StartAsync();
        Contracts = new SettlementContracts(Node.RpcUrl, Owner, Node.ChainId);
    }

    public async Task DisposeAsync()
    {
        if (Node is not null) await Node.DisposeAsync();
    }

    public SettlementOptions Options(SettlementDeployment d) => new()
    {
        RpcUrl = Node.RpcUrl,
        DistributorAddress = d.DistributorAddress,
        TokenAddress = d.TokenAddress,
        ChainId = Node.ChainId,
        Confirmations = 1,
        ReceiptTimeout = TimeSpan.FromSeconds(10),
        PollInterval = TimeSpan.FromMilliseconds(50),
    };
}

public static class Node
{
    /// <summary>Runs `node contracts/{script}` from the repo root; fails (not skips) with `npm ci` advice when node_modules is missing.</summary>
    public static string Run(string args, TimeSpan timeout)
    {
        var root = AnvilNode.FindRepoRoot();
        Assert.True(Directory.Exists(Path.Combine(root, "node_modules", "@openzeppelin")),
            $"node_modules is missing in {root}: run `npm ci` in the repository root.");
        var psi = new ProcessStartInfo("node") { WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args.Split(' ', StringSplitOptions.RemoveEmptyEntries)) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit((int)timeout.TotalMilliseconds)) { p.Kill(true); Assert.Fail($"node {args} timed out"); }
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"node {args} exited {p.ExitCode}: {stderr.Result}{stdout.Result}");
        return stdout.Result;
    }
}

public static class Tokens
{
    public static readonly BigInteger One = BigInteger.Pow(10, 18);
    public static BigInteger Of(long whole) => whole * One;
}
