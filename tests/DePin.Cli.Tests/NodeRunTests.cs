using DePin.Node;
using DePin.Settlement.Keys;
using DePin.Tests.Infrastructure;
using Nethereum.Signer;

namespace DePin.Cli.Tests;

/// <summary>
/// <c>depin node run|status</c> against a real silo's node gateway (<c>/node/v1</c>): the agent joins, computes and stops on
/// cancellation; once its device is excluded the gateway's refusal is a one-line error with exit 1.
/// </summary>
public sealed class NodeRunTests(SiloFixture fixture) : IClassFixture<SiloFixture>, IDisposable
{
    private const string DevPayout = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"; // anvil's PUBLIC dev account #2
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "depin-node-run-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task A_node_joins_earns_stops_and_once_excluded_is_refused()
    {
        // `depin node init` is tested in NodeCommandTests; here a light scrypt keeps each of the CLI's decryptions fast.
        NodeIdentity.Create(_dir, DevPayout, new EthECKey(DevChainKeys.Account2PrivateKey), null, null, scryptN: 1 << 12);

        var before = await fixture.RunAsync("node", "status", "--dir", _dir);
        Assert.Equal(1, before.ExitCode);
        Assert.Equal("error: the node gateway refused: This node has not registered devices with this payout address yet: run it first.", before.Err.Trim());

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var running = CliRun.RunAsync(fixture.Silo.BaseAddress, null, fixture.Silo.KeysDirectory,
            ["node", "run", "--dir", _dir, "--no-gpus", "--no-probe"], stop.Token);
        using var admin = fixture.Client(admin: true);
        var device = await Eventually.WaitAsync(async () => (await admin.ListNodesAsync()).FirstOrDefault(n => n.Community && n.Online),
            n => n is not null, "the agent's device") ?? throw new InvalidOperationException();
        Assert.Equal(DevPayout.ToLowerInvariant(), device.OperatorAddress);

        var status = await fixture.RunAsync("node", "status", "--dir", _dir);
        Assert.True(status.ExitCode == 0, status.Err);
        Assert.Contains($"device    {device.NodeId}  online", status.Out);
        Assert.Contains("earned    ", status.Out);

        await stop.CancelAsync();
        var stopped = await running;
        Assert.True(stopped.ExitCode == 0, stopped.Err);
        Assert.Contains("joined", stopped.Err);
        Assert.Contains("stopped after reporting", stopped.Err);

        await admin.ExcludeNodeAsync(device.NodeId, "test exclusion");
        var refused = await fixture.RunAsync("node", "run", "--dir", _dir, "--no-gpus", "--no-probe");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("error: the node gateway refused:", refused.Err);
        Assert.Contains("test exclusion", refused.Err);
    }
}
