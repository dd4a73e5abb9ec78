using System.Net;
using System.Net.Http.Json;
using System.Text;
using DePin.Abstractions.Clients;
using DePin.Abstractions.Jobs;
using DePin.Silo.Api.Auth;
using DePin.Silo.Api.Contracts;
using DePin.Tests.Infrastructure;

namespace DePin.Tests.Api;

/// <summary>Nothing in the API works without the right key: 401 without a valid one, 403 for the wrong role, 404 for another client's job.</summary>
public sealed class AuthTests(AuthTests.Silo fixture) : IClassFixture<AuthTests.Silo>
{
    /// <summary>A worker-less silo (jobs stay queued).</summary>
    public sealed class Silo : IAsyncLifetime
    {
        public TestSilo Host { get; private set; } = null!;
        public async Task InitializeAsync() => Host = await TestSilo.StartAsync(workers: false);
        public async Task DisposeAsync() => await Host.DisposeAsync();
    }

    private TestSilo Host => fixture.Host;
    private static readonly object SmallJob = new { kernel = "montecarlo-pi", parameters = new { samples = 1000, units = 2 } };

    public static TheoryData<string, string> Protected => new()
    {
        { "GET", "/jobs" }, { "POST", "/jobs" }, { "POST", "/jobs/quote" }, { "GET", "/jobs/0123456789abcdef0123456789abcdef" },
        { "GET", "/jobs/0123456789abcdef0123456789abcdef/result" }, { "POST", "/jobs/0123456789abcdef0123456789abcdef/cancel" },
        { "GET", "/nodes" }, { "GET", "/nodes/a/cpu0" }, { "GET", "/settlement" }, { "POST", "/epochs/close" },
        { "GET", "/keys" }, { "POST", "/keys" }, { "GET", "/metrics" }, { "GET", "/no-such-endpoint" },
    };

    [Theory]
    [MemberData(nameof(Protected))]
    public async Task Missing_key_is_401_problem_with_www_authenticate(string method, string path)
    {
        using var anonymous = Host.CreateHttp(null);
        var response = await anonymous.SendAsync(Request(method, path));
        Assert.Contains("API key", await ApiProblem.AssertAsync(response, HttpStatusCode.Unauthorized));
        Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.ToString());
    }

    [Theory]
    [InlineData("dpk_nope")]
    [InlineData("dpk_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("not-a-key-at-all")]
    public async Task Invalid_key_is_401_in_either_header(string key)
    {
        using var bearer = Host.CreateHttp(key);
        var response = await bearer.GetAsync("/nodes");
        // A bearer token that is no API key is left to other schemes: then the key is simply missing.
        await ApiProblem.AssertAsync(response, HttpStatusCode.Unauthorized);

        using var header = Host.CreateHttp(null);
        header.DefaultRequestHeaders.Add(ApiKeyAuthenticationHandler.HeaderName, key);
        response = await header.GetAsync("/nodes");
        Assert.Contains("not valid", await ApiProblem.AssertAsync(response, HttpStatusCode.Unauthorized));
        Assert.Contains("invalid_token", response.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task A_guessed_secret_for_a_real_key_id_is_401()
    {
        var keyId = ApiKeyFormat.KeyIdOf(Host.ClientKey)!;
        var (other, _) = ApiKeyFormat.Generate(ApiKeyRole.Client, null, DateTimeOffset.UtcNow);
        var forged = $"dpk_{keyId}_{other[(5 + keyId.Length)..]}";
        using var http = Host.CreateHttp(forged);
        await ApiProblem.AssertAsync(await http.GetAsync("/nodes"), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task X_Api_Key_header_works_like_bearer()
    {
        using var http = Host.CreateHttp(null);
        http.DefaultRequestHeaders.Add(ApiKeyAuthenticationHandler.HeaderName, Host.ClientKey);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/nodes")).StatusCode);
    }

    [Fact]
    public async Task Revoked_key_is_401_and_listed_as_revoked()
    {
        var created = await CreateKeyAsync("client", "to revoke");
        Assert.StartsWith("dpk_" + created.KeyId + "_", created.Key);
        using var http = Host.CreateHttp(created.Key);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/nodes")).StatusCode);

        var revoke = await Host.AdminHttp.PostAsync($"/keys/{created.KeyId}/revoke", null);
        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        // The silo that served the revoke forgets the key at once (others within Auth:CacheDuration).
        Assert.Contains("not valid", await ApiProblem.AssertAsync(await http.GetAsync("/nodes"), HttpStatusCode.Unauthorized));

        var keys = await Host.AdminHttp.GetAsync<ApiKeyInfo[]>("/keys");
        var listed = Assert.Single(keys, k => k.KeyId == created.KeyId);
        Assert.NotNull(listed.RevokedAt);
        Assert.Equal("to revoke", listed.Name);
        // Listing never shows a secret.
        Assert.DoesNotContain(created.Key[(5 + created.KeyId.Length)..], await Host.AdminHttp.GetStringAsync("/keys"));
        Assert.Equal(HttpStatusCode.NotFound, (await Host.AdminHttp.DeleteAsync("/keys/0000000000000000")).StatusCode);
    }

    [Fact]
    public async Task A_new_admin_key_can_do_admin_things_and_the_last_admin_cannot_be_revoked_while_others_exist_only()
    {
        var admin = await CreateKeyAsync("admin", "second admin");
        using var http = Host.CreateHttp(admin.Key);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/keys")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.DeleteAsync($"/keys/{admin.KeyId}")).StatusCode);
        var bootstrapAdmin = ApiKeyFormat.KeyIdOf(Host.AdminKey)!;
        Assert.Contains("last active admin key", await ApiProblem.AssertAsync(
            await Host.AdminHttp.PostAsync($"/keys/{bootstrapAdmin}/revoke", null), HttpStatusCode.Conflict));
    }

    [Theory]
    [InlineData("POST", "/epochs/close")]
    [InlineData("GET", "/keys")]
    [InlineData("POST", "/keys")]
    [InlineData("POST", "/keys/0000000000000000/revoke")]
    [InlineData("GET", "/metrics")]
    public async Task Client_key_on_an_admin_endpoint_is_403(string method, string path)
    {
        var response = await Host.ClientHttp.SendAsync(Request(method, path));
        Assert.Contains("admin key", await ApiProblem.AssertAsync(response, HttpStatusCode.Forbidden));
    }

    [Theory]
    [InlineData("/health", HttpStatusCode.OK)]
    [InlineData("/kernels", HttpStatusCode.OK)]
    [InlineData("/openapi/v1.json", HttpStatusCode.OK)]
    [InlineData("/epochs", HttpStatusCode.OK)]
    [InlineData("/epochs/7", HttpStatusCode.NotFound)]
    [InlineData("/accounts/0x00000000000000000000000000000000000000aa", HttpStatusCode.NotFound)]
    [InlineData("/accounts/0x00000000000000000000000000000000000000aa/statement", HttpStatusCode.NotFound)]
    [InlineData("/accounts/0x00000000000000000000000000000000000000aa/proof", HttpStatusCode.Conflict)]
    public async Task The_public_ledger_and_catalog_need_no_key(string path, HttpStatusCode expected)
    {
        using var anonymous = Host.CreateHttp(null);
        Assert.Equal(expected, (await anonymous.GetAsync(path)).StatusCode);
    }

    [Fact]
    public async Task The_openapi_document_declares_the_key_on_protected_operations_only()
    {
        using var anonymous = Host.CreateHttp(null);
        using var doc = System.Text.Json.JsonDocument.Parse(await anonymous.GetStringAsync("/openapi/v1.json"));
        var root = doc.RootElement;
        Assert.Equal("bearer", root.GetProperty("components").GetProperty("securitySchemes").GetProperty("apiKey").GetProperty("scheme").GetString());
        var paths = root.GetProperty("paths");
        string[] Schemes(string path, string method) => [.. paths.GetProperty(path).GetProperty(method).GetProperty("security").EnumerateArray()
            .SelectMany(requirement => requirement.EnumerateObject().Select(p => p.Name))];
        Assert.Equal(["apiKey"], Schemes("/jobs", "post"));
        Assert.Equal(["apiKey"], Schemes("/keys", "get"));
        Assert.Equal(["nodeToken"], Schemes("/node/v1/lease", "post"));
        // Public operations say so explicitly: one empty requirement, i.e. no credentials.
        Assert.Empty(Schemes("/epochs", "get"));
        Assert.Empty(Schemes("/node/v1/challenge", "post"));
    }

    [Fact]
    public async Task Another_clients_job_is_404_and_each_client_lists_only_its_own_jobs()
    {
        using var alice = Host.CreateHttp((await CreateKeyAsync("client", "alice")).Key);
        var bob = await CreateKeyAsync("client", "bob");
        using var bobHttp = Host.CreateHttp(bob.Key);

        var response = await alice.PostJobAsync(SmallJob);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var job = await response.ReadAsync<JobView>();
        Assert.Equal(HttpStatusCode.OK, (await alice.GetAsync($"/jobs/{job.JobId}")).StatusCode);

        Assert.Contains("No job", await ApiProblem.AssertAsync(await bobHttp.GetAsync($"/jobs/{job.JobId}"), HttpStatusCode.NotFound));
        await ApiProblem.AssertAsync(await bobHttp.GetAsync($"/jobs/{job.JobId}/result"), HttpStatusCode.NotFound);
        await ApiProblem.AssertAsync(await bobHttp.PostAsync($"/jobs/{job.JobId}/cancel", null), HttpStatusCode.NotFound);
        await ApiProblem.AssertAsync(await bobHttp.DeleteAsync($"/jobs/{job.JobId}"), HttpStatusCode.NotFound);
        Assert.Equal(JobStatus.Submitted, (await alice.GetAsync<JobView>($"/jobs/{job.JobId}")).Status);

        var bobJob = await (await bobHttp.PostJobAsync(SmallJob)).ReadAsync<JobView>();
        Assert.Equal(bob.KeyId, bobJob.Owner);
        Assert.Equal([job.JobId], (await alice.GetAsync<JobSummary[]>("/jobs")).Select(j => j.JobId));
        Assert.Equal([bobJob.JobId], (await bobHttp.GetAsync<JobSummary[]>("/jobs?status=Submitted")).Select(j => j.JobId));

        // Admins see and may cancel every job.
        var all = await Host.AdminHttp.GetAsync<JobSummary[]>("/jobs?limit=1000");
        Assert.Contains(all, j => j.JobId == job.JobId);
        Assert.Contains(all, j => j.JobId == bobJob.JobId);
        Assert.Equal(HttpStatusCode.OK, (await Host.AdminHttp.PostAsync($"/jobs/{job.JobId}/cancel", null)).StatusCode);
        Assert.Equal([JobStatus.Cancelled], (await alice.GetAsync<JobSummary[]>("/jobs")).Select(j => j.Status));
        Assert.Empty(await alice.GetAsync<JobSummary[]>("/jobs?status=Submitted"));
    }

    [Fact]
    public async Task Same_idempotency_key_and_body_is_the_same_job_and_a_different_body_is_409()
    {
        using var http = Host.CreateHttp((await CreateKeyAsync("client", "retrying")).Key);
        var first = await PostWithIdempotencyKeyAsync(http, "order-42", SmallJob);
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        var job = await first.ReadAsync<JobView>();

        var again = await PostWithIdempotencyKeyAsync(http, "order-42", SmallJob);
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        Assert.Equal(job.JobId, (await again.ReadAsync<JobView>()).JobId);
        Assert.Equal($"/jobs/{job.JobId}", again.Headers.Location?.OriginalString);
        Assert.True(again.Headers.Contains("Idempotent-Replayed"));
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));
        Assert.Single(await http.GetAsync<JobSummary[]>("/jobs"));

        var different = await PostWithIdempotencyKeyAsync(http, "order-42", new { kernel = "montecarlo-pi", parameters = new { samples = 2000, units = 2 } });
        Assert.Contains("different request", await ApiProblem.AssertAsync(different, HttpStatusCode.Conflict));
        Assert.Single(await http.GetAsync<JobSummary[]>("/jobs"));

        // Another key's idempotency keys are its own.
        var other = await PostWithIdempotencyKeyAsync(Host.ClientHttp, "order-42", SmallJob);
        Assert.Equal(HttpStatusCode.Accepted, other.StatusCode);
        Assert.NotEqual(job.JobId, (await other.ReadAsync<JobView>()).JobId);

        await ApiProblem.AssertAsync(await PostWithIdempotencyKeyAsync(http, "has space", SmallJob), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Bootstrap_key_files_are_readable_by_the_owner_only()
    {
        foreach (var file in new[] { "admin.key", "client.key" })
        {
            var path = Path.Combine(Host.KeysDirectory, file);
            Assert.True(ApiKeyFormat.TryParse(await File.ReadAllTextAsync(path), out _, out _));
            if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
        var keys = await Host.AdminHttp.GetAsync<ApiKeyInfo[]>("/keys");
        Assert.Equal(ApiKeyRole.Admin, keys.Single(k => k.KeyId == ApiKeyFormat.KeyIdOf(Host.AdminKey)).Role);
        Assert.Equal(ApiKeyRole.Client, keys.Single(k => k.KeyId == ApiKeyFormat.KeyIdOf(Host.ClientKey)).Role);
    }

    [Fact]
    public async Task Key_creation_validates_role_and_name()
    {
        await ApiProblem.AssertAsync(await Host.AdminHttp.PostAsJsonAsync("/keys", new { role = "root" }), HttpStatusCode.BadRequest);
        await ApiProblem.AssertAsync(await Host.AdminHttp.PostAsJsonAsync("/keys", new { role = "client", name = new string('x', 101) }), HttpStatusCode.BadRequest);
        var created = await Host.AdminHttp.PostAsJsonAsync("/keys", new { role = "client" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Contains("\"role\":\"client\"", await created.Content.ReadAsStringAsync());
    }

    private async Task<CreatedApiKey> CreateKeyAsync(string role, string name)
    {
        var response = await Host.AdminHttp.PostAsJsonAsync("/keys", new { role, name });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await response.ReadAsync<CreatedApiKey>();
    }

    private static Task<HttpResponseMessage> PostWithIdempotencyKeyAsync(HttpClient http, string idempotencyKey, object body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/jobs") { Content = JsonContent.Create(body, options: ApiJson.Options) };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        return http.SendAsync(request);
    }

    private static HttpRequestMessage Request(string method, string path) => new(new HttpMethod(method), path)
    {
        Content = method == "POST" ? new StringContent("{}", Encoding.UTF8, "application/json") : null,
    };
}
