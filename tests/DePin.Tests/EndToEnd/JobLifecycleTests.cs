using System.Net;
using DePin.Abstractions.Jobs;
using DePin.Abstractions.Nodes;
using DePin.Abstractions.Scheduling;
using DePin.Compute.Catalog;
using DePin.Compute.Devices;
using DePin.Grains.Jobs;
using DePin.Tests.Infrastructure;

namespace DePin.Tests.EndToEnd;

/// <summary>
/// A job never waits forever and is not kept forever: the reconciler queues again units that are nowhere, and a finished
/// job is deleted after its retention (then 410 Gone). Real silo; a hand-driven node leases and reports through the
/// queue shards so the test decides when units move.
/// </summary>
public sealed class JobLifecycleTests : IClassFixture<JobLifecycleTests.Device>
{
    private readonly Device _device;

    public JobLifecycleTests(Device device) => _device = device;

    /// <summary>One vectorised CPU device for the hand-driven node.</summary>
    public sealed class Device : IDisposable
    {
        public ComputeDevice Cpu { get; } = ComputeDevice.CreateVectorCpu();

        public void Dispose() => Cpu.Dispose();
    }

    private static NodeCapabilities Cpu => TestNodes.Cpu;

    private static readonly Dictionary<string, string?> Fast = new()
    {
        ["Scheduler:UnitsPerShardChunk"] = "4",
        ["Scheduler:ReconcileAfter"] = "00:00:00.5",
        ["Scheduler:ReconcileInterval"] = "00:00:00.2",
    };

    [Fact]
    public async Task Units_lost_between_the_shards_and_the_job_are_queued_again_and_the_job_completes()
    {
        await using var silo = await TestSilo.StartAsync(workers: false, Fast);
        var parameters = new { samples = 32 * 1000, units = 32, seed = 7 };
        var job = await (await silo.Http.PostJobAsync(new { kernel = "montecarlo-pi", parameters })).ReadAsync<JobView>();

        // Half the units leave their shards without reaching the job (what a lost failure notice or a cut-short
        // enqueue leaves behind): the shards holding units 0..15 drop the job.
        var options = new Grains.SchedulerOptions { UnitsPerShardChunk = 4 };
        var dropped = Enumerable.Range(0, 16).Select(i => options.ShardOf(job.JobId, i)).Distinct().ToList();
        var lost = Enumerable.Range(0, 32).Where(i => dropped.Contains(options.ShardOf(job.JobId, i))).ToList();
        foreach (var shard in dropped) await silo.Grains.GetGrain<IWorkQueueGrain>(shard).CancelJobAsync(job.JobId);
        foreach (var shard in dropped) Assert.Empty(await silo.Grains.GetGrain<IWorkQueueGrain>(shard).HeldUnitsAsync(job.JobId));

        // A node computes everything it can lease until the job completes; the lost units come back to be leased.
        var leased = new HashSet<int>();
        var done = await Eventually.WaitAsync(async () =>
        {
            foreach (var index in await WorkOnceAsync(silo)) leased.Add(index);
            return await silo.Http.GetAsync<JobView>($"/jobs/{job.JobId}");
        }, j => j.Status.IsTerminal(), "the job to complete", TimeSpan.FromMinutes(1));

        Assert.Equal(JobStatus.Completed, done.Status);
        Assert.Equal(32, done.UnitsCompleted);
        Assert.Superset(lost.ToHashSet(), leased);
        // The same job, undisturbed, gives the same result.
        var reference = await (await silo.Http.PostJobAsync(new { kernel = "montecarlo-pi", parameters })).ReadAsync<JobView>();
        var clean = await Eventually.WaitAsync(async () =>
        {
            await WorkOnceAsync(silo);
            return await silo.Http.GetAsync<JobView>($"/jobs/{reference.JobId}");
        }, j => j.Status.IsTerminal(), "the reference job to complete", TimeSpan.FromMinutes(1));
        Assert.Equal(clean.ResultDigest, done.ResultDigest);
    }

    [Fact]
    public async Task A_finished_job_is_deleted_after_its_retention_and_then_answers_410()
    {
        await using var silo = await TestSilo.StartAsync(workers: false, new Dictionary<string, string?>(Fast)
        {
            ["Scheduler:JobRetention"] = "00:00:02",
        });
        var job = await (await silo.Http.PostJobAsync(new { kernel = "montecarlo-pi", parameters = new { samples = 4000, units = 4, seed = 1 } })).ReadAsync<JobView>();
        Assert.True(JobIds.TryGetCreatedAt(job.JobId, out var created), $"job id {job.JobId} is not a UUIDv7");
        Assert.InRange(DateTimeOffset.UtcNow - created, TimeSpan.Zero, TimeSpan.FromMinutes(1));
        var done = await Eventually.WaitAsync(async () =>
        {
            await WorkOnceAsync(silo);
            return await silo.Http.GetAsync<JobView>($"/jobs/{job.JobId}");
        }, j => j.Status.IsTerminal(), "the job to complete", TimeSpan.FromMinutes(1));
        Assert.Equal(JobStatus.Completed, done.Status);

        // Within the retention the sweep keeps it.
        await JobDirectory.SweepAsync(silo.Grains);
        Assert.Equal(HttpStatusCode.OK, (await silo.Http.GetAsync($"/jobs/{job.JobId}/result")).StatusCode);

        // After it, the sweep deletes it: the job, its result and its directory row.
        await Eventually.WaitAsync(async () =>
        {
            await JobDirectory.SweepAsync(silo.Grains);
            return (await silo.Http.GetAsync($"/jobs/{job.JobId}")).StatusCode;
        }, s => s == HttpStatusCode.Gone, "the job to expire", TimeSpan.FromSeconds(30));
        var detail = await ApiProblem.AssertAsync(await silo.Http.GetAsync($"/jobs/{job.JobId}/result"), HttpStatusCode.Gone);
        Assert.Contains("finished more than", detail);
        Assert.DoesNotContain(await JobDirectory.ListAsync(silo.Grains, null, 0, 1000), j => j.JobId == job.JobId);
        Assert.Null(await silo.Grains.GetGrain<IJobGrain>(job.JobId).GetAsync());
        // An id that never existed is still 404.
        Assert.Equal(HttpStatusCode.NotFound, (await silo.Http.GetAsync($"/jobs/{JobIds.New(DateTimeOffset.UtcNow)}")).StatusCode);
    }

    /// <summary>Leases what the shards offer one node, computes it on the CPU and reports it; returns the unit indices.</summary>
    private async Task<List<int>> WorkOnceAsync(TestSilo silo)
    {
        var indices = new List<int>();
        for (var shard = 0; shard < 8; shard++)
        {
            var queue = silo.Grains.GetGrain<IWorkQueueGrain>(shard);
            var leases = await queue.LeaseAsync("manual-node/cpu0", 64, Cpu);
            if (leases.Count == 0) continue;
            var results = leases.Select(l =>
            {
                var output = KernelCatalog.Default.Get(l.Kernel).Execute(_device.Cpu, new KernelUnit(l.CanonicalParameters, l.Unit.Index, l.UnitCount, l.Input));
                return new UnitResult { LeaseId = l.LeaseId, Unit = l.Unit, Output = output, Digest = ResultDigest.Of(output) };
            }).ToList();
            await queue.ReportAsync("manual-node/cpu0", results);
            indices.AddRange(leases.Select(l => l.Unit.Index));
        }
        return indices;
    }
}
