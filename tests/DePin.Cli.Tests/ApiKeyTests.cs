namespace DePin.Cli.Tests;

/// <summary>Which API key the CLI sends, shown by what a real silo accepts and refuses.</summary>
public sealed class ApiKeyTests(SiloFixture fixture) : IClassFixture<SiloFixture>, IDisposable
{
    private const string Bogus = "dpk_00000000000000aa_notakey";

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("depin-cli-keys-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string KeysDirectory(string clientKey, string adminKey)
    {
        var keys = Path.Combine(_dir.FullName, Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(keys);
        File.WriteAllText(Path.Combine(keys, "client.key"), clientKey + "\n");
        File.WriteAllText(Path.Combine(keys, "admin.key"), adminKey + "\n");
        return keys;
    }

    private string KeyFile(string key)
    {
        var path = Path.Combine(_dir.FullName, Guid.NewGuid().ToString("N")[..8] + ".key");
        File.WriteAllText(path, key + "\n");
        return path;
    }

    private static Func<string, string?> Env(string? key = null, string? file = null) => name => name switch
    {
        "DEPIN_API_KEY" => key,
        "DEPIN_API_KEY_FILE" => file,
        _ => null,
    };

    private Task<Outcome> Jobs(Func<string, string?> env, string? keys, params string[] extra) =>
        CliRun.RunAsync(fixture.Silo.BaseAddress, env, keys, ["jobs", .. extra]);

    [Fact]
    public async Task Option_beats_environment_beats_key_file_beats_local_keys()
    {
        var good = fixture.Silo.ClientKey;
        // Each source is used when the ones above it are absent, and wins over every one below it (a bogus key there is never sent).
        Assert.Equal(0, (await Jobs(Env(Bogus, KeyFile(Bogus)), KeysDirectory(Bogus, Bogus), "--api-key", good)).ExitCode);
        Assert.Equal(0, (await Jobs(Env(good, KeyFile(Bogus)), KeysDirectory(Bogus, Bogus))).ExitCode);
        Assert.Equal(0, (await Jobs(Env(null, KeyFile(good)), KeysDirectory(Bogus, Bogus))).ExitCode);
        Assert.Equal(0, (await Jobs(Env(), KeysDirectory(good, Bogus))).ExitCode);

        // And the source above a good one is really the one sent: a bogus key there is refused.
        Assert.Equal(1, (await Jobs(Env(good), null, "--api-key", Bogus)).ExitCode);
        Assert.Equal(1, (await Jobs(Env(Bogus, KeyFile(good)), null)).ExitCode);
        Assert.Equal(1, (await Jobs(Env(null, KeyFile(Bogus)), KeysDirectory(good, good))).ExitCode);

        var none = await Jobs(Env(), null);
        Assert.Equal(1, none.ExitCode);
        Assert.Contains("(401)", none.Err);
        Assert.Contains("--api-key", none.Err);
        Assert.Single(none.Err.Trim().Split('\n'));
        Assert.DoesNotContain("Exception", none.Err);
    }

    [Fact]
    public async Task Admin_commands_pick_the_local_admin_key()
    {
        var keys = KeysDirectory(fixture.Silo.ClientKey, fixture.Silo.AdminKey);
        var list = await CliRun.RunAsync(fixture.Silo.BaseAddress, Env(), keys, ["admin", "keys", "list"]);
        Assert.True(list.ExitCode == 0, list.Err);
        Assert.Contains("client", list.Out);
        Assert.Contains("admin", list.Out);

        // With only a client key, the same command is forbidden: a one-line 403.
        var forbidden = await CliRun.RunAsync(fixture.Silo.BaseAddress, Env(fixture.Silo.ClientKey), null, ["admin", "keys", "list"]);
        Assert.Equal(1, forbidden.ExitCode);
        Assert.Contains("(403)", forbidden.Err);
        Assert.Single(forbidden.Err.Trim().Split('\n'));
    }

    [Fact]
    public async Task An_unreadable_key_file_is_a_one_line_error_without_a_request()
    {
        var o = await CliRun.RunAsync(CliRun.Nowhere, Env(null, Path.Combine(_dir.FullName, "missing.key")), null, ["jobs"]);
        Assert.Equal(1, o.ExitCode);
        Assert.StartsWith("error: cannot read the API key file", o.Err);
        Assert.Single(o.Err.Trim().Split('\n'));
    }

    [Fact]
    public async Task Keys_create_prints_the_key_once_list_shows_it_and_revoke_ends_it()
    {
        var created = await fixture.RunAsync("admin", "keys", "create", "--role", "client", "--name", "ops-cli");
        Assert.True(created.ExitCode == 0, created.Err);
        var key = created.Out.Trim();
        Assert.StartsWith("dpk_", key);
        Assert.Contains("shown only now", created.Err);

        Assert.Equal(0, (await Jobs(Env(key), null)).ExitCode);
        var list = await fixture.RunAsync("admin", "keys", "list", "--json");
        Assert.Contains("ops-cli", list.Out);
        Assert.DoesNotContain(key, list.Out);

        var keyId = key.Split('_')[1];
        var revoked = await fixture.RunAsync("admin", "keys", "revoke", keyId);
        Assert.True(revoked.ExitCode == 0, revoked.Err);
        Assert.Contains(keyId, revoked.Out);

        var unknown = await fixture.RunAsync("admin", "keys", "revoke", "00000000deadbeef");
        Assert.Equal(1, unknown.ExitCode);
        Assert.StartsWith("error: ", unknown.Err);
        Assert.Contains("00000000deadbeef", unknown.Err);

        var badRole = await fixture.RunAsync("admin", "keys", "create", "--role", "root");
        Assert.NotEqual(0, badRole.ExitCode);

        var forbidden = await fixture.RunAsync("admin", "keys", "create", "--role", "admin", "--api-key", fixture.Silo.ClientKey);
        Assert.Equal(1, forbidden.ExitCode);
        Assert.Contains("(403)", forbidden.Err);
    }
}
