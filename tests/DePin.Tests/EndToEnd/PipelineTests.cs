using System.Net;
using System.Text.Json;
using DePin.Abstractions.Jobs;
using DePin.Abstractions.Nodes;
using DePin.Abstractions.Rewards;
using System.Net.Http.Json;
using DePin.Silo.Api;
using DePin.Silo.Api.Contracts;
using DePin.Tests.Infrastructure;

namespace DePin.Tests.EndToEnd;

/// <summary>A real silo with its CPU worker: jobs go in over HTTP and come back verified, with earnings credited.</summary>
public sealed class PipelineTests(PipelineTests.Silo fixture) : IClassFixture<PipelineTests.Silo>
{
    /// <summary>One silo with workers for the whole class.</summary>
    public sealed class Silo : IAsyncLifetime
    {
        public TestSilo Host { get; private set; } = null!;
        public async Task InitializeAsync() => Host = await TestSilo.StartAsync(workers: true);
        public async Task DisposeAsync() => await Host.DisposeAsync();
    }

    private HttpClient Http => fixture.Host.Http;

    [Fact]
    public async Task Saxpy_job_completes_with_the_correct_vector()
    {
        var x = Enumerable.Range(0, 10_000).Select(i => (float)i).ToArray();
        var y = Enumerable.Range(0, 10_000).Select(i => 1f - i * 0.5f).ToArray();
        var job = await SubmitAndWaitAsync(new { kernel = "saxpy", parameters = new { a = 2.5, x, y, unitSize = 1000 } });

        Assert.Equal(JobStatus.Completed, job.Status);
        Assert.Equal(10, job.UnitCount);
        Assert.Equal(10, job.UnitsCompleted);
        Assert.Equal(1.0, job.Progress);

        var response = await Http.GetAsync($"/jobs/{job.JobId}/result");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(job.ResultDigest, response.Headers.GetValues("X-Result-Digest").Single());
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var result = doc.RootElement.GetProperty("y").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        Assert.Equal(x.Length, result.Length);
        for (var i = 0; i < x.Length; i++)
        {
            var expected = 2.5f * x[i] + y[i];
            Assert.True(Math.Abs(result[i] - expected) <= 1e-5 * Math.Max(1, Math.Abs(expected)), $"y[{i}] = {result[i]}, expected {expected}");
        }
    }

    [Fact]
    public async Task Monte_carlo_pi_is_accurate_and_its_digest_reproducible()
    {
        var request = new { kernel = "montecarlo-pi", parameters = new { samples = 4_000_000, units = 16, seed = 7 } };
        var first = await SubmitAndWaitAsync(request);
        var second = await SubmitAndWaitAsync(request);

        Assert.Equal(JobStatus.Completed, first.Status);
        Assert.Equal(first.ResultDigest, second.ResultDigest);
        using var doc = JsonDocument.Parse(await Http.GetByteArrayAsync($"/jobs/{first.JobId}/result"));
        Assert.InRange(doc.RootElement.GetProperty("pi").GetDouble(), 3.13, 3.153);
        Assert.Equal(4_000_000, doc.RootElement.GetProperty("samples").GetInt64());
    }

    [Fact]
    public async Task Mandelbrot_job_returns_a_png()
    {
        var job = await SubmitAndWaitAsync(new
        {
            kernel = "mandelbrot",
            parameters = new { width = 96, height = 64, maxIterations = 64, centerX = -0.5, centerY = 0.0, scale = 3.0, rowsPerUnit = 16 },
        });
        Assert.Equal(4, job.UnitCount);
        var response = await Http.GetAsync($"/jobs/{job.JobId}/result");
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        var png = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
    }

    [Fact]
    public async Task Verified_units_credit_the_operator_and_the_epoch_totals_equal_the_credits()
    {
        var node = (await Http.GetAsync<NodeView[]>("/nodes")).Single();
        var operatorAddress = node.OperatorAddress;
        var before = await AccountAsync(operatorAddress);

        var job = await SubmitAndWaitAsync(new { kernel = "montecarlo-pi", parameters = new { samples = 64_000, units = 8 } });

        // Credits follow verification asynchronously: await the condition, then check it is exact.
        var after = await Eventually.WaitAsync(() => AccountAsync(operatorAddress),
            a => a.UnitsCredited >= before.UnitsCredited + job.UnitCount, "credits for the job");
        Assert.Equal(before.UnitsCredited + job.UnitCount, after.UnitsCredited);
        Assert.Equal(before.CumulativeMicroCredits + job.PriceMicroCredits, after.CumulativeMicroCredits);

        var close = await Http.PostAsync("/epochs/close", null);
        Assert.Equal(HttpStatusCode.OK, close.StatusCode);
        var epoch = await close.ReadAsync<EpochSettlement>();
        Assert.Equal(SettlementState.NotSent, epoch.State);
        var entry = Assert.Single(epoch.Entries, e => e.Address == operatorAddress);
        Assert.Equal(after.CumulativeMicroCredits, entry.CumulativeMicroCredits);
        Assert.Equal(after.CumulativeMicroCredits - before.SettledCumulativeMicroCredits, entry.DeltaMicroCredits);
        Assert.Equal(epoch.Entries.Sum(e => e.CumulativeMicroCredits), epoch.TotalCumulativeMicroCredits);
        Assert.Equal(epoch.Entries.Sum(e => e.DeltaMicroCredits), epoch.EpochMicroCredits);

        var settled = await AccountAsync(operatorAddress);
        Assert.Equal(epoch.Epoch, settled.LastEpoch);
        Assert.Equal(after.CumulativeMicroCredits, settled.SettledCumulativeMicroCredits);

        // Nothing earned since: no new epoch.
        Assert.Equal(HttpStatusCode.NoContent, (await Http.PostAsync("/epochs/close", null)).StatusCode);
        Assert.Equal(epoch.Epoch, (await Http.GetAsync<EpochSettlement[]>("/epochs"))[0].Epoch);
    }

    [Fact]
    public async Task Node_is_registered_with_capabilities_and_online()
    {
        var node = (await Http.GetAsync<NodeView[]>("/nodes")).Single();
        Assert.Equal("VectorCpu", node.Capabilities.DeviceKind);
        Assert.True(node.Capabilities.ComputeUnits >= 1);
        Assert.True(node.Online);
        var one = await Http.GetAsync<NodeView>($"/nodes/{node.NodeId}");
        Assert.Equal(node.NodeId, one.NodeId);
    }

    [Fact]
    public async Task Requirements_keep_units_off_nodes_that_do_not_meet_them()
    {
        var gpuOnly = await (await Http.PostJobAsync(new
        {
            kernel = "montecarlo-pi",
            parameters = new { samples = 1000, units = 2 },
            requirements = new { deviceKinds = new[] { "Cuda" } },
        })).ReadAsync<JobView>();
        var cpuOk = await SubmitAndWaitAsync(new
        {
            kernel = "montecarlo-pi",
            parameters = new { samples = 1000, units = 2 },
            requirements = new { deviceKinds = new[] { "VectorCpu", "Cuda" }, minMemoryBytes = 1024 },
        });
        Assert.Equal(JobStatus.Completed, cpuOk.Status);

        // The only node is a CPU: the CUDA-only job is still waiting after a later job finished.
        var waiting = await Http.GetAsync<JobView>($"/jobs/{gpuOnly.JobId}");
        Assert.Equal(JobStatus.Submitted, waiting.Status);
        Assert.Equal(["Cuda"], waiting.Requirements!.DeviceKinds);
        await Http.PostAsync($"/jobs/{gpuOnly.JobId}/cancel", null);
    }

    [Fact]
    public async Task Quote_prices_a_job_and_estimates_its_time_per_node_without_submitting_it()
    {
        var before = await Http.GetStringAsync("/jobs");
        var response = await Http.PostAsJsonAsync("/jobs/quote", new
        {
            kernel = "sgemm",
            parameters = new { m = 128, n = 128, k = 128, seed = 1 },
            redundancy = 2,
            requirements = new { minGflops = 1e9 },
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var quote = await response.ReadAsync<QuoteView>();
        Assert.Equal("sgemm", quote.Kernel);
        Assert.Equal(quote.PricePerUnitMicroCredits * quote.UnitCount * 2, quote.PriceMicroCredits);
        Assert.InRange(quote.EstimatedGflop, 2 * 128.0 * 128 * 128 / 1e9 * 0.9, 2 * 128.0 * 128 * 128 / 1e9 * 1.5);
        var node = Assert.Single(quote.Nodes);
        Assert.False(node.Eligible); // no CPU does 10^9 GFLOP/s
        Assert.Equal(before, await Http.GetStringAsync("/jobs"));
    }

    [Fact]
    public async Task Metrics_endpoint_exports_scheduler_counters_for_prometheus()
    {
        await SubmitAndWaitAsync(new { kernel = "montecarlo-pi", parameters = new { samples = 1000, units = 2 } });
        var text = await Eventually.WaitAsync(() => Http.GetStringAsync("/metrics"), t => t.Contains("depin_units_reported"), "metrics");
        Assert.Contains("depin_unit_queue_wait", text);
    }

    [Fact]
    public async Task Openapi_document_describes_the_job_api()
    {
        using var doc = JsonDocument.Parse(await Http.GetStringAsync("/openapi/v1.json"));
        var paths = doc.RootElement.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/jobs", out _));
        Assert.True(paths.TryGetProperty("/jobs/{jobId}/result", out _));
        Assert.True(paths.TryGetProperty("/accounts/{address}", out _));
    }

    private async Task<RewardAccountView> AccountAsync(string address)
    {
        var response = await Http.GetAsync($"/accounts/{address}");
        return response.StatusCode == HttpStatusCode.NotFound
            ? new RewardAccountView { Address = address }
            : await response.ReadAsync<RewardAccountView>();
    }

    private async Task<JobView> SubmitAndWaitAsync(object request)
    {
        var response = await Http.PostJobAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var job = await response.ReadAsync<JobView>();
        Assert.Equal($"/jobs/{job.JobId}", response.Headers.Location?.OriginalString);
        return await Eventually.WaitAsync(() => Http.GetAsync<JobView>($"/jobs/{job.JobId}"), j => j.Status.IsTerminal(), $"job {job.JobId}");
    }
}
