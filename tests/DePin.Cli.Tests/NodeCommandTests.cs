namespace DePin.Cli.Tests;

/// <summary><c>depin node init|run</c> on the local side: the identity on disk and the refusals before any network call.</summary>
public sealed class NodeCommandTests : IDisposable
{
    private const string DevPayout = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"; // anvil's PUBLIC dev account #2
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "depin-node-cli-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Init_creates_an_encrypted_identity_readable_by_the_owner_only()
    {
        var run = await CliRun.OfflineAsync("node", "init", "--dir", _dir, "--payout", DevPayout, "--dev-payout-account", "2");
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("payout    " + DevPayout.ToLowerInvariant(), run.Out);
        Assert.Contains("password", run.Err); // says where the generated password went
        var keystore = File.ReadAllText(Path.Combine(_dir, "keystore.json"));
        Assert.Contains("scrypt", keystore);
        Assert.DoesNotContain("privateKey", keystore, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_dir, "keystore.json")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_dir, "password")));

        var again = await CliRun.OfflineAsync("node", "init", "--dir", _dir, "--payout", DevPayout, "--dev-payout-account", "2");
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("already holds a node identity", again.Err);
    }

    [Fact]
    public async Task Init_refuses_a_payout_key_that_does_not_own_the_payout_address()
    {
        var run = await CliRun.OfflineAsync("node", "init", "--dir", _dir, "--payout", DevPayout, "--dev-payout-account", "1");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("not to " + DevPayout.ToLowerInvariant(), run.Err);
        Assert.False(Directory.Exists(_dir));
    }

    [Fact]
    public async Task Init_needs_the_payout_key_and_a_real_address()
    {
        var noKey = await CliRun.OfflineAsync("node", "init", "--dir", _dir, "--payout", DevPayout);
        Assert.Equal(1, noKey.ExitCode);
        Assert.Contains("--payout-key-env", noKey.Err);

        var zero = await CliRun.OfflineAsync("node", "init", "--dir", _dir, "--payout", "0x" + new string('0', 40), "--dev-payout-account", "2");
        Assert.Equal(1, zero.ExitCode);
        Assert.Contains("not a payout address", zero.Err);

        var missingEnv = await CliRun.OfflineAsync("node", "init", "--dir", _dir, "--payout", DevPayout, "--payout-key-env", "NOPE");
        Assert.Equal(1, missingEnv.ExitCode);
        Assert.Contains("'NOPE'", missingEnv.Err);
    }

    [Fact]
    public async Task Run_without_an_identity_says_to_init_first()
    {
        var run = await CliRun.OfflineAsync("node", "run", "--dir", _dir);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("depin node init", run.Err);
    }

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }
}
