using DePin.Tests.Infrastructure;
using DepinCli = DePin.Cli.Cli;
using CliContext = DePin.Cli.CliContext;

namespace DePin.Tests.CommandLine;

/// <summary>The <c>depin</c> CLI against a real silo: it finds the bootstrap keys, and manages keys end to end.</summary>
public sealed class CliKeysTests(CliKeysTests.Silo fixture) : IClassFixture<CliKeysTests.Silo>
{
    /// <summary>A worker-less silo.</summary>
    public sealed class Silo : IAsyncLifetime
    {
        public TestSilo Host { get; private set; } = null!;
        public async Task InitializeAsync() => Host = await TestSilo.StartAsync(workers: false);
        public async Task DisposeAsync() => await Host.DisposeAsync();
    }

    private TestSilo Host => fixture.Host;

    private async Task<(int Code, string Out, string Err)> DepinAsync(string? keysDirectory, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var context = new CliContext
        {
            Out = stdout,
            Error = stderr,
            ApiDefault = Host.BaseAddress.ToString(),
            KeysDirectory = keysDirectory ?? Path.Combine(Path.GetTempPath(), "depin-no-keys-" + Guid.NewGuid().ToString("N")),
            GetEnvironmentVariable = _ => null,
            PollInterval = TimeSpan.FromMilliseconds(50),
        };
        var code = await DepinCli.RunAsync(args, context);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task The_cli_picks_up_the_bootstrap_key_files()
    {
        var submit = await DepinAsync(Host.KeysDirectory, "submit", "montecarlo-pi", "--params", """{"samples":1000,"units":1}""");
        Assert.True(submit.Code == 0, submit.Err);
        var jobs = await DepinAsync(Host.KeysDirectory, "jobs");
        Assert.Contains(submit.Out.Trim(), jobs.Out);
        // close-epoch is an admin command: the local admin.key is used.
        var close = await DepinAsync(Host.KeysDirectory, "close-epoch");
        Assert.True(close.Code == 0, close.Err);

        var anonymous = await DepinAsync(null, "jobs");
        Assert.Equal(1, anonymous.Code);
        Assert.Contains("(401)", anonymous.Err);
        Assert.Single(anonymous.Err.Trim().Split('\n'));
        // Public reads work without a key.
        Assert.Equal(0, (await DepinAsync(null, "kernels")).Code);
    }

    [Fact]
    public async Task Admin_keys_create_list_revoke_round_trip()
    {
        var create = await DepinAsync(Host.KeysDirectory, "admin", "keys", "create", "--role", "client", "--name", "ci runner");
        Assert.True(create.Code == 0, create.Err);
        var key = create.Out.Trim();
        Assert.StartsWith("dpk_", key);
        var keyId = key.Split('_')[1];

        Assert.Equal(0, (await DepinAsync(null, "--api-key", key, "jobs")).Code);
        var forbidden = await DepinAsync(null, "--api-key", key, "admin", "keys", "list");
        Assert.Equal(1, forbidden.Code);
        Assert.Contains("(403)", forbidden.Err);

        var list = await DepinAsync(Host.KeysDirectory, "admin", "keys", "list");
        Assert.Contains(keyId, list.Out);
        Assert.Contains("ci runner", list.Out);
        Assert.DoesNotContain(key, list.Out);

        var revoke = await DepinAsync(Host.KeysDirectory, "admin", "keys", "revoke", keyId);
        Assert.True(revoke.Code == 0, revoke.Err);
        Assert.Contains($"revoked client key {keyId}", revoke.Out);
        var refused = await DepinAsync(null, "--api-key", key, "jobs");
        Assert.Equal(1, refused.Code);
        Assert.Contains("(401)", refused.Err);
        Assert.Contains("not valid", refused.Err);
    }
}
