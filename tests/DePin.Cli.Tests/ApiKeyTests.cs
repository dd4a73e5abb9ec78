using System.Net;

namespace DePin.Cli.Tests;

/// <summary>Which API key the CLI sends, and how it reports 401/403.</summary>
public sealed class ApiKeyTests : IDisposable
{
    private const string OptionKey = "dpk_00000000000000aa_option";
    private const string EnvKey = "dpk_00000000000000bb_environment";
    private const string FileKey = "dpk_00000000000000cc_file";
    private const string LocalClientKey = "dpk_00000000000000dd_localclient";
    private const string LocalAdminKey = "dpk_00000000000000ee_localadmin";

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("depin-cli-keys-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string LocalKeys()
    {
        var keys = Path.Combine(_dir.FullName, "keys");
        Directory.CreateDirectory(keys);
        File.WriteAllText(Path.Combine(keys, "client.key"), LocalClientKey + "\n");
        File.WriteAllText(Path.Combine(keys, "admin.key"), LocalAdminKey + "\n");
        return keys;
    }

    private static (StubHandler Stub, List<string?> Sent) Recording()
    {
        var sent = new List<string?>();
        var stub = new StubHandler(r =>
        {
            lock (sent) sent.Add(r.Headers.Authorization?.ToString());
            return r.RequestUri!.AbsolutePath switch
            {
                "/epochs/close" => new HttpResponseMessage(HttpStatusCode.NoContent),
                "/keys" => StubHandler.Json("""[{"keyId":"00000000000000dd","role":"client","name":"bootstrap client","createdAt":"2025-01-01T00:00:00+00:00","revokedAt":null}]"""),
                _ => StubHandler.Json("[]"),
            };
        });
        return (stub, sent);
    }

    private static Func<string, string?> Env(string? key = null, string? file = null) => name => name switch
    {
        "DEPIN_API_KEY" => key,
        "DEPIN_API_KEY_FILE" => file,
        _ => null,
    };

    [Fact]
    public async Task Option_beats_environment_beats_key_file_beats_local_keys()
    {
        var keyFile = Path.Combine(_dir.FullName, "my.key");
        await File.WriteAllTextAsync(keyFile, FileKey + "\n");
        var keys = LocalKeys();

        var (stub, sent) = Recording();
        Assert.Equal(0, (await CliRun.RunAsync(stub, Env(EnvKey, keyFile), keys, ["jobs", "--api-key", OptionKey])).ExitCode);
        Assert.Equal(0, (await CliRun.RunAsync(stub, Env(EnvKey, keyFile), keys, ["jobs"])).ExitCode);
        Assert.Equal(0, (await CliRun.RunAsync(stub, Env(null, keyFile), keys, ["jobs"])).ExitCode);
        Assert.Equal(0, (await CliRun.RunAsync(stub, Env(), keys, ["jobs"])).ExitCode);
        Assert.Equal(0, (await CliRun.RunAsync(stub, Env(), null, ["jobs"])).ExitCode);
        Assert.Equal([$"Bearer {OptionKey}", $"Bearer {EnvKey}", $"Bearer {FileKey}", $"Bearer {LocalClientKey}", null], sent);
    }

    [Fact]
    public async Task Admin_commands_pick_the_local_admin_key()
    {
        var keys = LocalKeys();
        var (stub, sent) = Recording();
        Assert.Equal(0, (await CliRun.RunAsync(stub, Env(), keys, ["close-epoch"])).ExitCode);
        var list = await CliRun.RunAsync(stub, Env(), keys, ["admin", "keys", "list"]);
        Assert.Equal(0, list.ExitCode);
        Assert.Contains("00000000000000dd", list.Out);
        Assert.Contains("bootstrap client", list.Out);
        Assert.Equal([$"Bearer {LocalAdminKey}", $"Bearer {LocalAdminKey}"], sent);
    }

    [Fact]
    public async Task An_unreadable_key_file_is_a_one_line_error_without_a_request()
    {
        var (stub, sent) = Recording();
        var o = await CliRun.RunAsync(stub, Env(null, Path.Combine(_dir.FullName, "missing.key")), null, ["jobs"]);
        Assert.Equal(1, o.ExitCode);
        Assert.StartsWith("error: cannot read the API key file", o.Err);
        Assert.Single(o.Err.Trim().Split('\n'));
        Assert.Empty(sent);
    }

    [Theory]
    [InlineData(HttpStatusCode.Unauthorized, "API key required", "--api-key")]
    [InlineData(HttpStatusCode.Forbidden, "Forbidden", "(403)")]
    public async Task Unauthorized_and_forbidden_are_one_line_errors_with_exit_1(HttpStatusCode status, string title, string expected)
    {
        var stub = new StubHandler(_ => StubHandler.Problem(status, title, "needs a key"));
        var o = await CliRun.RunAsync(stub, Env(), null, ["close-epoch"]);
        Assert.Equal(1, o.ExitCode);
        Assert.Contains(expected, o.Err);
        Assert.Contains(title, o.Err);
        Assert.Single(o.Err.Trim().Split('\n'));
        Assert.DoesNotContain("Exception", o.Err);
    }

    [Fact]
    public async Task Keys_create_prints_the_key_once_on_stdout()
    {
        string? body = null;
        var stub = new StubHandler(r =>
        {
            body = r.Content!.ReadAsStringAsync().Result;
            return StubHandler.Json("""{"key":"dpk_0123456789abcdef_secret","keyId":"0123456789abcdef","role":"admin","name":"ops","createdAt":"2025-01-01T00:00:00+00:00"}""",
                HttpStatusCode.Created);
        });
        var o = await CliRun.RunAsync(stub, Env(), null, ["admin", "keys", "create", "--role", "admin", "--name", "ops"]);
        Assert.Equal(0, o.ExitCode);
        Assert.Equal("dpk_0123456789abcdef_secret", o.Out.Trim());
        Assert.Contains("shown only now", o.Err);
        Assert.Contains("\"role\":\"admin\"", body);
        Assert.Contains("\"name\":\"ops\"", body);

        var bad = await CliRun.RunAsync(stub, Env(), null, ["admin", "keys", "create", "--role", "root"]);
        Assert.NotEqual(0, bad.ExitCode);
    }

    [Fact]
    public async Task Submit_sends_the_idempotency_key()
    {
        string? sent = null;
        var stub = new StubHandler(r =>
        {
            sent = r.Headers.TryGetValues("Idempotency-Key", out var v) ? v.Single() : null;
            return StubHandler.Json(StubHandler.JobJson("job1", "Submitted", 0, 1, "montecarlo-pi"), HttpStatusCode.Accepted);
        });
        var o = await CliRun.RunAsync(stub, Env(), null, ["submit", "montecarlo-pi", "--params", """{"samples":1000,"units":1}""", "--idempotency-key", "nightly-7"]);
        Assert.Equal(0, o.ExitCode);
        Assert.Equal("nightly-7", sent);
    }
}
