using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace DePin.Cli.Tests;

/// <summary>
/// Every `depin` command that calls the API, against a real silo: what it prints on success, and how a refusal's
/// problem+json detail becomes a one-line message with exit 1.
/// </summary>
public sealed class CliTests(SiloFixture fixture) : IClassFixture<SiloFixture>
{
    private const string Stranger = "0x000000000000000000000000000000000000dead";

    private static void Refused(Outcome o, string expectedPrefix)
    {
        Assert.True(o.ExitCode == 1, $"exit {o.ExitCode}: {o.Out}{o.Err}");
        Assert.StartsWith(expectedPrefix, o.Err);
        Assert.Single(o.Err.Trim().Split('\n'));
        Assert.Equal("", o.Out);
        Assert.DoesNotContain("   at ", o.Err);
        Assert.DoesNotContain("Exception", o.Err);
    }

    private static void Ok(Outcome o) => Assert.True(o.ExitCode == 0, $"exit {o.ExitCode}: {o.Out}{o.Err}");

    // ------------------------------------------------------------------ no request

    [Fact]
    public async Task Usage_errors_exit_non_zero_without_a_request()
    {
        var missing = await CliRun.OfflineAsync("submit", "saxpy");
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains("Kernel parameters are required", missing.Err);

        var unknown = await CliRun.OfflineAsync("frobnicate");
        Assert.NotEqual(0, unknown.ExitCode);
        Assert.Contains("frobnicate", unknown.Err);

        var duration = await CliRun.OfflineAsync("wait-ready", "--timeout", "soon");
        Assert.NotEqual(0, duration.ExitCode);
        Assert.Contains("'soon' is not a duration", duration.Err);

        var json = await CliRun.OfflineAsync("submit", "saxpy", "--params", "{not json");
        Assert.Equal(1, json.ExitCode);
        Assert.StartsWith("error: the parameters in --params are not valid JSON", json.Err);
    }

    [Fact]
    public async Task Connection_refused_is_exit_2_and_names_the_url()
    {
        var o = await CliRun.OfflineAsync("kernels");
        Assert.Equal(2, o.ExitCode);
        Assert.Contains(CliRun.Nowhere.ToString(), o.Err);
        Assert.Contains("cannot connect", o.Err);
        Assert.DoesNotContain("   at ", o.Err);
    }

    // ------------------------------------------------------------------ jobs

    [Fact]
    public async Task Submit_with_wait_shows_progress_and_the_result_summary()
    {
        var file = Path.Combine(Path.GetTempPath(), $"depin-params-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, """{"a":2,"x":[1],"y":[1]}""");
        try
        {
            var o = await fixture.RunAsync("submit", "saxpy", "--params-file", file, "--wait", "--timeout", "60s");
            Ok(o);
            var jobId = o.Out.Split('\n')[0].Trim();
            Assert.Contains("Completed", o.Out);
            Assert.Contains("/1", o.Err); // progress lines: n/1 units

            var status = await fixture.RunAsync("status", jobId);
            Ok(status);
            Assert.Contains("Completed", status.Out);
            Assert.Contains("1/1 units", status.Out);

            var result = await fixture.RunAsync("result", jobId);
            Ok(result);
            using var doc = JsonDocument.Parse(result.Out);
            Assert.Equal(3f, doc.RootElement.GetProperty("y")[0].GetSingle());
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Submit_sends_options_and_requirements_that_status_shows_and_cancel_ends_it()
    {
        var o = await fixture.RunAsync("submit", "montecarlo-pi", "--params", """{"samples":1000,"units":8}""", "--priority", "5",
            "--device-kind", "cuda", "--device-kind", "OpenCL,Cuda", "--min-memory", "8GiB", "--min-gflops", "100.5", "--idempotency-key", "cli-test-req");
        Ok(o);
        var jobId = o.Out.Trim();
        var again = await fixture.RunAsync("submit", "montecarlo-pi", "--params", """{"samples":1000,"units":8}""", "--priority", "5",
            "--device-kind", "cuda", "--device-kind", "OpenCL,Cuda", "--min-memory", "8GiB", "--min-gflops", "100.5", "--idempotency-key", "cli-test-req");
        Assert.Equal(jobId, again.Out.Trim()); // the idempotency key reached the server

        var status = await fixture.RunAsync("status", jobId);
        Ok(status);
        Assert.Contains("device Cuda or OpenCL, memory >= 8.0 GiB, SGEMM >= 100.5 GF/s", status.Out);
        Assert.Contains("GFLOP", status.Out);
        Assert.Matches(@"priority:\s+5", status.Out);

        var json = await fixture.RunAsync("status", jobId, "--json");
        using (var doc = JsonDocument.Parse(json.Out))
        {
            Assert.Equal(8, doc.RootElement.GetProperty("unitCount").GetInt32());
            Assert.Equal(8L << 30, doc.RootElement.GetProperty("requirements").GetProperty("minMemoryBytes").GetInt64());
        }

        Refused(await fixture.RunAsync("result", jobId), "error: ");

        var cancel = await fixture.RunAsync("cancel", jobId);
        Ok(cancel);
        Assert.Contains($"job {jobId} is Cancelled", cancel.Out);
        Refused(await fixture.RunAsync("cancel", jobId), "error: ");
    }

    [Fact]
    public async Task Submit_refusals_print_the_servers_detail()
    {
        var unknown = await fixture.RunAsync("submit", "nope", "-p", "{}");
        Refused(unknown, "error: ");
        Assert.Contains("nope", unknown.Err);

        var budget = await fixture.RunAsync("submit", "montecarlo-pi", "-p", """{"samples":1000,"units":8}""", "--max-price", "1");
        Refused(budget, "error: ");

        var noKey = await fixture.RunWithoutKeyAsync("submit", "montecarlo-pi", "-p", """{"samples":1000,"units":1}""");
        Refused(noKey, "error: ");
        Assert.Contains("(401)", noKey.Err);
        Assert.Contains("--api-key", noKey.Err);
    }

    [Fact]
    public async Task Status_and_result_of_an_unknown_job_are_404_messages()
    {
        var status = await fixture.RunAsync("status", "no-such-job");
        Refused(status, "error: ");
        Assert.Contains("no-such-job", status.Err);
        Refused(await fixture.RunAsync("result", "no-such-job"), "error: ");
    }

    [Fact]
    public async Task Result_binary_is_refused_on_a_terminal_and_written_with_output()
    {
        var job = await fixture.RunJobAsync("mandelbrot", new { width = 32, height = 32, maxIterations = 16, centerX = -0.5, centerY = 0.0, scale = 3.0, rowsPerUnit = 16 });
        var refused = await fixture.RunAsync("result", job.JobId);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("refusing to write binary", refused.Err);
        Assert.Contains("-o", refused.Err);

        var path = Path.Combine(Path.GetTempPath(), $"depin-{Guid.NewGuid():N}.png");
        try
        {
            var written = await fixture.RunAsync("result", job.JobId, "-o", path);
            Ok(written);
            Assert.Contains("verified", written.Out);
            Assert.Equal([0x89, 0x50, 0x4E, 0x47], (await File.ReadAllBytesAsync(path))[..4]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Jobs_lists_as_json_and_table_and_refuses_a_bad_limit()
    {
        var job = await fixture.RunJobAsync("montecarlo-pi", new { samples = 1000, units = 1 });
        var json = await fixture.RunAsync("jobs", "--status", "completed", "--json");
        Ok(json);
        using (var doc = JsonDocument.Parse(json.Out))
        {
            Assert.Contains(doc.RootElement.EnumerateArray(), j => j.GetProperty("jobId").GetString() == job.JobId);
            Assert.All(doc.RootElement.EnumerateArray(), j => Assert.Equal("Completed", j.GetProperty("status").GetString()));
        }

        var text = await fixture.RunAsync("jobs");
        Ok(text);
        Assert.Contains("JOB", text.Out);
        Assert.Contains(job.JobId, text.Out);

        Refused(await fixture.RunAsync("jobs", "--limit", "5000"), "error: ");
    }

    [Fact]
    public async Task Quote_prints_price_and_the_node_table()
    {
        var o = await fixture.RunAsync("quote", "montecarlo-pi", "-p", """{"samples":8000,"units":8}""");
        Ok(o);
        Assert.Contains("price:", o.Out);
        Assert.Contains("per unit", o.Out);
        Assert.Contains("1 of 1 online", o.Out);
        var lines = o.Out.Split('\n', StringSplitOptions.TrimEntries).ToList();
        int header = lines.FindIndex(l => l.StartsWith("NODE", StringComparison.Ordinal));
        Assert.True(header >= 0, o.Out);
        Assert.Contains("ELIGIBLE", lines[header]);
        Assert.StartsWith(fixture.Node.NodeId, lines[header + 2]);
        Assert.Contains("yes", lines[header + 2]);
        Assert.Equal("", o.Err);

        var json = await fixture.RunAsync("quote", "montecarlo-pi", "-p", """{"samples":8000,"units":8}""", "--json");
        Ok(json);
        using (var doc = JsonDocument.Parse(json.Out))
            Assert.Equal(8, doc.RootElement.GetProperty("unitCount").GetInt32());

        var none = await fixture.RunAsync("quote", "montecarlo-pi", "-p", """{"samples":8000,"units":8}""", "--min-gflops", "1e9");
        Ok(none);
        Assert.Contains("0 of 1 online", none.Out);
        Assert.Contains("no online node meets the requirements", none.Err);

        var refused = await fixture.RunAsync("quote", "nope", "-p", "{}");
        Refused(refused, "error: ");
        Assert.Contains("nope", refused.Err);
    }

    [Theory]
    [InlineData("--device-kind", "Tpu", "'Tpu' is not a device kind")]
    [InlineData("--min-memory", "lots", "'lots' is not a byte count")]
    [InlineData("--min-gflops", "-3", "'-3' is not a non-negative number")]
    public async Task Bad_requirement_options_are_usage_errors_without_a_request(string option, string value, string message)
    {
        foreach (var command in new[] { "submit", "quote" })
        {
            var o = await CliRun.OfflineAsync(command, "saxpy", "--params", "{}", option, value);
            Assert.NotEqual(0, o.ExitCode);
            Assert.Contains(message, o.Err);
            Assert.DoesNotContain("cannot connect", o.Err);
        }
    }

    // ------------------------------------------------------------------ catalog, nodes, health

    [Fact]
    public async Task Kernels_and_nodes_list_what_the_silo_has()
    {
        var kernels = await fixture.RunWithoutKeyAsync("kernels");
        Ok(kernels);
        Assert.Contains("saxpy", kernels.Out);
        Assert.Contains("mandelbrot", kernels.Out);

        var nodes = await fixture.RunAsync("nodes");
        Ok(nodes);
        Assert.Contains(fixture.Node.NodeId, nodes.Out);
        var json = await fixture.RunAsync("nodes", "--json");
        using (var doc = JsonDocument.Parse(json.Out))
            Assert.Contains(doc.RootElement.EnumerateArray(), n => n.GetProperty("nodeId").GetString() == fixture.Node.NodeId);

        var noKey = await fixture.RunWithoutKeyAsync("nodes");
        Refused(noKey, "error: ");
        Assert.Contains("(401)", noKey.Err);
    }

    [Fact]
    public async Task Wait_ready_succeeds_on_the_silo_and_times_out_with_exit_2_elsewhere()
    {
        var ready = await fixture.RunAsync("wait-ready", "--timeout", "10s");
        Ok(ready);
        Assert.Contains("ready", ready.Out);

        var nowhere = await CliRun.OfflineAsync("wait-ready", "--timeout", "200ms");
        Assert.Equal(2, nowhere.ExitCode);
        Assert.Contains("was not ready", nowhere.Err);
    }

    // ------------------------------------------------------------------ rewards and settlement

    [Fact]
    public async Task Account_close_epoch_epochs_and_statement_follow_a_real_job()
    {
        var job = await fixture.RunJobAsync("montecarlo-pi", new { samples = 2000, units = 2 });
        var operatorAddress = fixture.Node.OperatorAddress;
        await fixture.WaitForCreditsAsync(job.PriceMicroCredits);

        var account = await fixture.RunAsync("account", operatorAddress);
        Ok(account);
        Assert.Contains(operatorAddress, account.Out);
        Assert.Contains("credits", account.Out);

        var forbidden = await fixture.RunAsync("close-epoch", "--api-key", fixture.Silo.ClientKey);
        Refused(forbidden, "error: ");
        Assert.Contains("(403)", forbidden.Err);

        var closed = await fixture.RunAsync("close-epoch", "--json"); // picks the local admin.key
        Ok(closed);
        long epoch;
        using (var doc = JsonDocument.Parse(closed.Out))
        {
            epoch = doc.RootElement.GetProperty("epoch").GetInt64();
            Assert.Equal("NotSent", doc.RootElement.GetProperty("state").GetString());
            Assert.Contains(doc.RootElement.GetProperty("entries").EnumerateArray(), e => e.GetProperty("address").GetString() == operatorAddress);
        }
        var nothing = await fixture.RunAsync("close-epoch");
        Ok(nothing);
        Assert.Contains("nothing to close", nothing.Out);

        var list = await fixture.RunAsync("epochs");
        Ok(list);
        Assert.Contains("EPOCH", list.Out);
        var one = await fixture.RunAsync("epochs", epoch.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Ok(one);
        Assert.Contains(operatorAddress, one.Out);
        var unknownEpoch = await fixture.RunAsync("epochs", "99999");
        Refused(unknownEpoch, "error: ");
        Assert.Contains("99999", unknownEpoch.Err);

        var statement = await fixture.RunAsync("statement", operatorAddress);
        Ok(statement);
        Assert.Contains("EPOCH", statement.Out);
        Assert.Contains("NotSent", statement.Out);
        var unknownStatement = await fixture.RunAsync("statement", Stranger);
        Refused(unknownStatement, "error: ");
        Assert.Contains(Stranger, unknownStatement.Err);
    }

    [Fact]
    public async Task Account_refusals_print_the_servers_detail()
    {
        var malformed = await fixture.RunAsync("account", "0xnope");
        Refused(malformed, "error: ");
        Assert.Contains("'0xnope' is not an EVM address", malformed.Err);

        var unknown = await fixture.RunAsync("account", Stranger);
        Refused(unknown, "error: ");
        Assert.Contains(Stranger, unknown.Err);
    }

    [Fact]
    public async Task Settlement_off_explains_how_to_enable_and_claim_is_refused()
    {
        var o = await fixture.RunAsync("settlement");
        Ok(o);
        Assert.Contains("Off", o.Out);
        Assert.Contains("Settlement:Mode=DevChain", o.Out);
        var json = await fixture.RunAsync("settlement", "--json");
        using (var doc = JsonDocument.Parse(json.Out))
            Assert.False(doc.RootElement.GetProperty("enabled").GetBoolean());

        var claim = await fixture.RunAsync("claim", fixture.Node.OperatorAddress, "--dev-account", "1");
        Refused(claim, "error: ");
        Assert.Contains("Settlement:Mode is Off", claim.Err);

        var malformed = await fixture.RunAsync("claim", "0xnope", "--dev-account", "1");
        Refused(malformed, "error: ");
        Assert.Contains("'0xnope' is not an EVM address", malformed.Err);
    }

    [Fact]
    public async Task Claim_needs_exactly_one_key_source_before_any_request()
    {
        var none = await CliRun.OfflineAsync("claim", Stranger);
        Assert.NotEqual(0, none.ExitCode);
        Assert.Contains("A signing key is required", none.Err);

        var two = await CliRun.OfflineAsync("claim", Stranger, "--dev-account", "1", "--private-key-env", "K");
        Assert.Contains("only one of", two.Err);

        var keystoreNoPassword = await CliRun.OfflineAsync("claim", Stranger, "--keystore", "k.json");
        Assert.Contains("--keystore needs exactly one of", keystoreNoPassword.Err);

        var strayPassword = await CliRun.OfflineAsync("claim", Stranger, "--dev-account", "1", "--password-env", "P");
        Assert.Contains("only apply with --keystore", strayPassword.Err);

        var badIndex = await CliRun.OfflineAsync("claim", Stranger, "--dev-account", "7");
        Assert.Contains("--dev-account must be 0, 1 or 2", badIndex.Err);
        Assert.All(new[] { none, two, keystoreNoPassword, strayPassword, badIndex }, o =>
        {
            Assert.NotEqual(0, o.ExitCode);
            Assert.DoesNotContain("cannot connect", o.Err);
        });
    }

    // ------------------------------------------------------------------ demo

    [Fact]
    public async Task Demo_runs_its_jobs_writes_the_png_and_closes_an_epoch()
    {
        var outDir = Path.Combine(Path.GetTempPath(), $"depin-demo-{Guid.NewGuid():N}");
        try
        {
            var o = await fixture.RunAsync("demo", "--out", outDir, "--timeout", "120s");
            Ok(o);
            var png = await File.ReadAllBytesAsync(Path.Combine(outDir, "mandelbrot.png"));
            Assert.Equal([0x89, 0x50, 0x4E, 0x47], png[..4]);
            Assert.Contains("pi ~ 3.14", o.Out);
            Assert.Contains("all match 2*x+y", o.Out);
            Assert.Contains(fixture.Node.OperatorAddress, o.Out);
            Assert.Contains("recorded as NotSent", o.Out);
            Assert.Contains("Settlement:Mode=DevChain", o.Out);
        }
        finally
        {
            if (Directory.Exists(outDir)) Directory.Delete(outDir, recursive: true);
        }
    }
}
