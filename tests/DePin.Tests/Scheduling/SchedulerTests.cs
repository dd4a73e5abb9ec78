using DePin.Abstractions.Jobs;
using DePin.Abstractions.Nodes;
using DePin.Abstractions.Rewards;
using DePin.Abstractions.Scheduling;
using DePin.Compute.Catalog;
using DePin.Compute.Devices;
using DePin.Grains.Scheduling;
using DePin.Tests.Infrastructure;

namespace DePin.Tests.Scheduling;

/// <summary>
/// Leases, expiry, duplicates, replication and cancellation, driven through the grains exactly as workers drive them,
/// on a real silo without its own workers (so the test decides who leases what and when).
/// </summary>
public sealed class SchedulerTests(SchedulerTests.Silo fixture) : IClassFixture<SchedulerTests.Silo>
{
    /// <summary>One worker-less silo with one queue shard and short leases.</summary>
    public sealed class Silo : IAsyncLifetime
    {
        public TestSilo Host { get; private set; } = null!;
        public ComputeDevice Device { get; } = ComputeDevice.CreateVectorCpu();

        public async Task InitializeAsync() => Host = await TestSilo.StartAsync(workers: false, new Dictionary<string, string?>
        {
            ["Scheduler:QueueShards"] = "1",
            ["Scheduler:LeaseDuration"] = "00:00:02",
            ["Scheduler:LeaseSweepInterval"] = "00:00:00.050",
            ["Scheduler:MaxAttempts"] = "3",
        });

        public async Task DisposeAsync()
        {
            await Host.DisposeAsync();
            Device.Dispose();
        }
    }

    private static NodeCapabilities Cpu => TestNodes.Cpu;

    private IGrainFactory Grains => fixture.Host.Grains;
    private IWorkQueueGrain Shard => Grains.GetGrain<IWorkQueueGrain>(0);

    [Fact]
    public async Task Expired_lease_puts_the_unit_back_and_another_node_finishes_it()
    {
        var (a, b) = (await RegisterNodeAsync(), await RegisterNodeAsync());
        var job = await SubmitAsync(units: 1);

        var lost = Assert.Single(await Shard.LeaseAsync(a.NodeId, 10, Cpu));
        Assert.Empty(await Shard.LeaseAsync(b.NodeId, 10, Cpu)); // leased to a: nothing for b

        // a goes silent; once its lease expires the unit is ready again and b gets it.
        var retry = await Eventually.WaitAsync(() => Shard.LeaseAsync(b.NodeId, 10, Cpu), l => l.Count > 0, "lease expiry", TimeSpan.FromSeconds(10));
        Assert.Equal(lost.Unit, Assert.Single(retry).Unit);
        Assert.Equal(2, retry[0].Attempt);

        Assert.Equal(1, (await Shard.ReportAsync(b.NodeId, [Execute(retry[0])])).Verified);
        var done = await WaitTerminalAsync(job);
        Assert.Equal(JobStatus.Completed, done.Status);

        // a's late result is ignored: b alone is paid, once.
        Assert.Equal(1, (await Shard.ReportAsync(a.NodeId, [Execute(lost)])).Ignored);
        Assert.Equal(done.PriceMicroCredits, (await AccountAsync(b.Operator)).CumulativeMicroCredits);
        Assert.Equal(0, (await AccountAsync(a.Operator)).UnitsCredited);
    }

    [Fact]
    public async Task Duplicate_results_are_ignored_and_credit_once()
    {
        var a = await RegisterNodeAsync();
        var job = await SubmitAsync(units: 3);
        var leases = await Shard.LeaseAsync(a.NodeId, 10, Cpu);
        Assert.Equal(3, leases.Count);
        var results = leases.Select(Execute).ToList();

        Assert.Equal(3, (await Shard.ReportAsync(a.NodeId, results)).Verified);
        var again = await Shard.ReportAsync(a.NodeId, results);
        Assert.Equal(3, again.Ignored);
        Assert.Equal(0, again.Verified);

        var done = await WaitTerminalAsync(job);
        Assert.Equal(JobStatus.Completed, done.Status);
        var account = await AccountAsync(a.Operator);
        Assert.Equal(3, account.UnitsCredited);
        Assert.Equal(done.PriceMicroCredits, account.CumulativeMicroCredits);

        // A redelivered credit (e.g. a retry after a crash) is deduplicated by job and unit while the job may still
        // resend it; once a job has stored that every credit was acknowledged it releases the account and never resends.
        var credit = new UnitCredit("job-still-paying", 0, a.NodeId, done.PricePerUnitMicroCredits);
        var operatorAccount = Grains.GetGrain<IRewardAccountGrain>(a.Operator);
        Assert.Equal(done.PricePerUnitMicroCredits, await operatorAccount.CreditAsync([credit, credit]));
        Assert.Equal(0, await operatorAccount.CreditAsync([credit]));
        Assert.Equal(done.PriceMicroCredits + done.PricePerUnitMicroCredits, (await AccountAsync(a.Operator)).CumulativeMicroCredits);
    }

    [Fact]
    public async Task Redundant_units_need_agreeing_results_from_distinct_nodes_and_pay_each_agreeing_node()
    {
        var (a, b, c) = (await RegisterNodeAsync(), await RegisterNodeAsync(), await RegisterNodeAsync());
        var job = await SubmitAsync(units: 1, redundancy: 2);

        var la = Assert.Single(await Shard.LeaseAsync(a.NodeId, 10, Cpu));
        Assert.Empty(await Shard.LeaseAsync(a.NodeId, 10, Cpu)); // never two replicas on one node
        var lb = Assert.Single(await Shard.LeaseAsync(b.NodeId, 10, Cpu));
        Assert.Equal(la.Unit, lb.Unit);

        // b cheats with a self-consistent but wrong output: no quorum, so a third replica is leased.
        var wrong = Execute(lb);
        var forged = wrong.Output!.ToArray();
        forged[0] ^= 0x55;
        await Shard.ReportAsync(b.NodeId, [wrong with { Output = forged, Digest = ResultDigest.Of(forged) }]);
        Assert.Equal(0, (await Shard.ReportAsync(a.NodeId, [Execute(la)])).Verified);
        var lc = Assert.Single(await Shard.LeaseAsync(c.NodeId, 10, Cpu));
        Assert.Equal(1, (await Shard.ReportAsync(c.NodeId, [Execute(lc)])).Verified);

        var done = await WaitTerminalAsync(job);
        Assert.Equal(JobStatus.Completed, done.Status);
        Assert.Equal(done.PricePerUnitMicroCredits, (await AccountAsync(a.Operator)).CumulativeMicroCredits);
        Assert.Equal(done.PricePerUnitMicroCredits, (await AccountAsync(c.Operator)).CumulativeMicroCredits);
        Assert.Equal(0, (await AccountAsync(b.Operator)).UnitsCredited);
        Assert.Equal(1, (await Grains.GetGrain<INodeGrain>(b.NodeId).GetAsync())!.UnitsRejected);
        Assert.Equal(1, (await Grains.GetGrain<INodeGrain>(c.NodeId).GetAsync())!.UnitsVerified);
    }

    [Fact]
    public async Task Cancellation_stops_leasing_and_late_results_earn_nothing()
    {
        var a = await RegisterNodeAsync();
        var job = await SubmitAsync(units: 4);
        var held = Assert.Single(await Shard.LeaseAsync(a.NodeId, 1, Cpu));

        var cancelled = await Grains.GetGrain<IJobGrain>(job).CancelAsync();
        Assert.Equal(JobStatus.Cancelled, cancelled!.Status);
        Assert.Empty(await Shard.LeaseAsync(a.NodeId, 10, Cpu));
        Assert.Equal(1, (await Shard.ReportAsync(a.NodeId, [Execute(held)])).Ignored);
        Assert.Equal(0, (await AccountAsync(a.Operator)).UnitsCredited);
        Assert.Equal(JobStatus.Cancelled, (await Grains.GetGrain<IJobGrain>(job).GetAsync())!.Status);
    }

    [Fact]
    public async Task A_unit_that_keeps_failing_on_distinct_nodes_fails_its_job_with_the_reason()
    {
        var job = await SubmitAsync(units: 1);
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            var node = await RegisterNodeAsync();
            var lease = Assert.Single(await Shard.LeaseAsync(node.NodeId, 10, Cpu));
            Assert.Equal(attempt, lease.Attempt);
            Assert.Equal(1, (await Shard.ReportAsync(node.NodeId, [ErrorFor(lease)])).Failed);
            Assert.Empty(await Shard.LeaseAsync(node.NodeId, 10, Cpu)); // never back to a node that failed it
        }
        var done = await WaitTerminalAsync(job);
        Assert.Equal(JobStatus.Failed, done.Status);
        Assert.Contains("device lost", done.Error);
    }

    [Fact]
    public async Task An_error_flood_from_one_node_counts_once_and_never_fails_the_job()
    {
        var (a, b) = (await RegisterNodeAsync(), await RegisterNodeAsync());
        var job = await SubmitAsync(units: 1);
        var lease = Assert.Single(await Shard.LeaseAsync(a.NodeId, 10, Cpu));

        // MaxAttempts is 3: five errors for the same lease in one report, then replayed, count as one failure.
        var flood = Enumerable.Repeat(ErrorFor(lease), 5).ToList();
        Assert.Equal(new ReportOutcome(0, 0, 4, 1), await Shard.ReportAsync(a.NodeId, flood));
        Assert.Equal(new ReportOutcome(0, 0, 5, 0), await Shard.ReportAsync(a.NodeId, flood));
        Assert.Empty(await Shard.LeaseAsync(a.NodeId, 10, Cpu));
        Assert.Equal(JobStatus.Running, (await Grains.GetGrain<IJobGrain>(job).GetAsync())!.Status);

        var retry = Assert.Single(await Shard.LeaseAsync(b.NodeId, 10, Cpu));
        Assert.Equal(2, retry.Attempt);
        Assert.Equal(1, (await Shard.ReportAsync(b.NodeId, [Execute(retry)])).Verified);
        Assert.Equal(JobStatus.Completed, (await WaitTerminalAsync(job)).Status);
    }

    [Fact]
    public async Task A_foreign_lease_id_changes_nothing_and_the_holder_still_reports()
    {
        var (a, b) = (await RegisterNodeAsync(), await RegisterNodeAsync());
        var job = await SubmitAsync(units: 2);
        var la = Assert.Single(await Shard.LeaseAsync(a.NodeId, 1, Cpu));
        var lb = Assert.Single(await Shard.LeaseAsync(b.NodeId, 1, Cpu));
        var before = await Shard.GetStatsAsync();

        // b answers a's unit with a's lease id, with its own lease id on a's unit, and with an unknown id.
        var forged = await Shard.ReportAsync(b.NodeId,
        [
            Execute(la),
            Execute(la) with { LeaseId = lb.LeaseId },
            ErrorFor(la),
            ErrorFor(la) with { LeaseId = 12345 },
        ]);
        Assert.Equal(new ReportOutcome(0, 0, 4, 0), forged);
        Assert.Equal(before, await Shard.GetStatsAsync());
        Assert.Equal([la.LeaseId], await Shard.RenewAsync(a.NodeId, [la.LeaseId]));

        Assert.Equal(1, (await Shard.ReportAsync(a.NodeId, [Execute(la)])).Verified);
        Assert.Equal(1, (await Shard.ReportAsync(b.NodeId, [Execute(lb)])).Verified);
        Assert.Equal(JobStatus.Completed, (await WaitTerminalAsync(job)).Status);
        Assert.Equal(0, (await Grains.GetGrain<INodeGrain>(b.NodeId).GetAsync())!.UnitsRejected);
    }

    [Fact]
    public async Task A_report_for_a_unit_the_node_never_leased_is_ignored()
    {
        var (a, stranger) = (await RegisterNodeAsync(), await RegisterNodeAsync());
        var job = await SubmitAsync(units: 1);
        var lease = Assert.Single(await Shard.LeaseAsync(a.NodeId, 10, Cpu));
        var before = await Shard.GetStatsAsync();

        Assert.Equal(new ReportOutcome(0, 0, 2, 0), await Shard.ReportAsync(stranger.NodeId, [Execute(lease), ErrorFor(lease)]));
        Assert.Equal(before, await Shard.GetStatsAsync());
        Assert.Empty(await Shard.LeaseAsync(stranger.NodeId, 10, Cpu)); // still a's

        Assert.Equal(1, (await Shard.ReportAsync(a.NodeId, [Execute(lease)])).Verified);
        Assert.Equal(JobStatus.Completed, (await WaitTerminalAsync(job)).Status);
        Assert.Equal(0, (await AccountAsync(stranger.Operator)).UnitsCredited);
    }

    [Fact]
    public async Task A_late_result_for_an_expired_lease_counts_while_the_unit_is_pending()
    {
        var (a, b) = (await RegisterNodeAsync(), await RegisterNodeAsync());
        var job = await SubmitAsync(units: 1);
        var lost = Assert.Single(await Shard.LeaseAsync(a.NodeId, 10, Cpu));
        var retry = await Eventually.WaitAsync(() => Shard.LeaseAsync(b.NodeId, 10, Cpu), l => l.Count > 0, "lease expiry", TimeSpan.FromSeconds(10));

        // a's lease lapsed but the unit is still pending: a's answer counts, and b's lease ends with it.
        Assert.Equal(1, (await Shard.ReportAsync(a.NodeId, [Execute(lost)])).Verified);
        Assert.Equal(1, (await Shard.ReportAsync(b.NodeId, [Execute(retry[0])])).Ignored);
        Assert.Equal(JobStatus.Completed, (await WaitTerminalAsync(job)).Status);
        Assert.Equal(1, (await AccountAsync(a.Operator)).UnitsCredited);
        Assert.Equal(0, (await AccountAsync(b.Operator)).UnitsCredited);
    }

    [Fact]
    public async Task A_node_never_holds_more_than_MaxHeld_units_through_report_expiry_and_cancel()
    {
        var a = await RegisterNodeAsync();
        var first = await SubmitAsync(units: 6);
        LeaseRequest Request(int max) => new() { NodeId = a.NodeId, Max = max, Capabilities = Cpu, MaxHeld = 2 };

        var held = await Shard.LeaseAsync(Request(10));
        Assert.Equal(2, held.Count);
        Assert.Empty(await Shard.LeaseAsync(Request(10)));

        // A report frees one slot.
        Assert.Equal(1, (await Shard.ReportAsync(a.NodeId, [Execute(held[0])])).Verified);
        Assert.Single(await Shard.LeaseAsync(Request(10)));
        Assert.Empty(await Shard.LeaseAsync(Request(10)));

        // Expiry frees both slots (the two leases may lapse in different sweeps).
        var afterExpiry = new List<WorkUnitLease>();
        await Eventually.WaitAsync(async () =>
        {
            afterExpiry.AddRange(await Shard.LeaseAsync(Request(10)));
            return afterExpiry.Count;
        }, n => n >= 2, "lease expiry", TimeSpan.FromSeconds(10));
        Assert.Equal(2, afterExpiry.Count);
        Assert.Empty(await Shard.LeaseAsync(Request(10)));

        // Cancelling the job withdraws its leases and frees both slots for another job.
        await Grains.GetGrain<IJobGrain>(first).CancelAsync();
        var second = await SubmitAsync(units: 3);
        var next = await Shard.LeaseAsync(Request(10));
        Assert.Equal(2, next.Count);
        Assert.All(next, l => Assert.Equal(second, l.Unit.JobId));
        Assert.Empty(await Shard.LeaseAsync(Request(10)));

        // The old overloads have no cap.
        var uncapped = Assert.Single(await Shard.LeaseAsync(a.NodeId, 10, Cpu));
        Assert.Equal(3, (await Shard.ReportAsync(a.NodeId, [.. next.Select(Execute), Execute(uncapped)])).Verified);
        Assert.Equal(JobStatus.Completed, (await WaitTerminalAsync(second)).Status);
    }

    [Fact]
    public async Task A_wrong_size_output_is_that_nodes_error_and_never_meets_the_other_replicas()
    {
        var (a, b, c) = (await RegisterNodeAsync(), await RegisterNodeAsync(), await RegisterNodeAsync());
        var job = await SubmitAsync(units: 1, redundancy: 2);
        var la = Assert.Single(await Shard.LeaseAsync(a.NodeId, 10, Cpu));
        var lb = Assert.Single(await Shard.LeaseAsync(b.NodeId, 10, Cpu));

        // A self-consistent digest over a truncated output: refused as a's error, once.
        var right = Execute(la);
        var truncated = right.Output![..^1];
        var outcome = await Shard.ReportAsync(a.NodeId, [right with { Output = truncated, Digest = ResultDigest.Of(truncated) }]);
        Assert.Equal(new ReportOutcome(0, 0, 0, 1), outcome);
        Assert.Empty(await Shard.LeaseAsync(a.NodeId, 10, Cpu));

        Assert.Equal(0, (await Shard.ReportAsync(b.NodeId, [Execute(lb)])).Verified);
        var lc = Assert.Single(await Shard.LeaseAsync(c.NodeId, 10, Cpu));
        Assert.Equal(1, (await Shard.ReportAsync(c.NodeId, [Execute(lc)])).Verified);
        Assert.Equal(JobStatus.Completed, (await WaitTerminalAsync(job)).Status);
        // Had it been a replica, a would be recorded as a disagreeing node.
        var nodeA = (await Grains.GetGrain<INodeGrain>(a.NodeId).GetAsync())!;
        Assert.Equal(0, nodeA.UnitsRejected);
        Assert.Equal(0, (await AccountAsync(a.Operator)).UnitsCredited);
    }

    [Fact]
    public async Task A_node_without_enough_memory_for_a_unit_is_not_given_it()
    {
        var small = await RegisterNodeAsync();
        var job = await SubmitAsync(units: 1);
        var tiny = Cpu with { MemoryBytes = 8 };
        Assert.Empty(await Shard.LeaseAsync(small.NodeId, 10, tiny));
        Assert.Empty(await Shard.LeaseAsync(small.NodeId, 10)); // unknown capabilities: nothing with requirements
        var lease = Assert.Single(await Shard.LeaseAsync(small.NodeId, 10, Cpu));
        Assert.Equal(1, (await Shard.ReportAsync(small.NodeId, [Execute(lease)])).Verified);
        Assert.Equal(JobStatus.Completed, (await WaitTerminalAsync(job)).Status);
    }

    [Fact]
    public async Task Result_whose_digest_does_not_match_its_output_is_rejected()
    {
        var a = await RegisterNodeAsync();
        var job = await SubmitAsync(units: 1);
        var lease = Assert.Single(await Shard.LeaseAsync(a.NodeId, 10, Cpu));
        var result = Execute(lease);
        var outcome = await Shard.ReportAsync(a.NodeId, [result with { Digest = new string('0', 64) }]);
        Assert.Equal(1, outcome.Failed);

        // A failed the unit: it goes to another node.
        Assert.Empty(await Shard.LeaseAsync(a.NodeId, 10, Cpu));
        var b = await RegisterNodeAsync();
        var again = Assert.Single(await Shard.LeaseAsync(b.NodeId, 10, Cpu));
        Assert.Equal(1, (await Shard.ReportAsync(b.NodeId, [Execute(again)])).Verified);
        Assert.Equal(JobStatus.Completed, (await WaitTerminalAsync(job)).Status);
    }

    [Fact]
    public async Task Subscribers_are_told_when_units_are_enqueued_and_when_a_lease_expires()
    {
        var a = await RegisterNodeAsync();
        var observer = new WorkAvailableProbe();
        var reference = Grains.CreateObjectReference<IWorkAvailableObserver>(observer);
        var dead = Grains.CreateObjectReference<IWorkAvailableObserver>(new WorkAvailableProbe());
        await Shard.SubscribeAsync(dead);
        Grains.DeleteObjectReference<IWorkAvailableObserver>(dead); // a subscriber that went away must not fail the shard
        await Shard.SubscribeAsync(reference);
        try
        {
            var job = await SubmitAsync(units: 1);
            Assert.Equal(0, await observer.NextAsync());
            var lease = Assert.Single(await Shard.LeaseAsync(a.NodeId, 10, Cpu));

            Assert.Equal(0, await observer.NextAsync()); // the lease expired: the unit is ready again
            var retry = Assert.Single(await Shard.LeaseAsync(a.NodeId, 10, Cpu));
            Assert.Equal(lease.Unit, retry.Unit);
            Assert.Equal(1, (await Shard.ReportAsync(a.NodeId, [Execute(retry)])).Verified);
            Assert.Equal(JobStatus.Completed, (await WaitTerminalAsync(job)).Status);
        }
        finally
        {
            await Shard.UnsubscribeAsync(reference);
            await Shard.UnsubscribeAsync(dead);
            Grains.DeleteObjectReference<IWorkAvailableObserver>(reference);
        }
    }

    /// <summary>Records each notification; <see cref="NextAsync"/> awaits the next one not yet taken.</summary>
    private sealed class WorkAvailableProbe : IWorkAvailableObserver
    {
        private readonly System.Threading.Channels.Channel<int> _shards = System.Threading.Channels.Channel.CreateUnbounded<int>();

        public Task WorkAvailableAsync(int shard)
        {
            _shards.Writer.TryWrite(shard);
            return Task.CompletedTask;
        }

        public async Task<int> NextAsync() => await _shards.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(15));
    }

    private static UnitResult ErrorFor(WorkUnitLease lease) => new() { LeaseId = lease.LeaseId, Unit = lease.Unit, Error = "device lost" };

    private UnitResult Execute(WorkUnitLease lease)
    {
        var output = KernelCatalog.Default.Get(lease.Kernel)
            .Execute(fixture.Device, new KernelUnit(lease.CanonicalParameters, lease.Unit.Index, lease.UnitCount, lease.Input));
        return new UnitResult { LeaseId = lease.LeaseId, Unit = lease.Unit, Output = output, Digest = ResultDigest.Of(output) };
    }

    private async Task<string> SubmitAsync(int units, int redundancy = 1)
    {
        var jobId = Guid.NewGuid().ToString("N");
        var parameters = $$"""{"samples": {{units * 1000}}, "units": {{units}}, "seed": 3}""";
        var outcome = await Grains.GetGrain<IJobGrain>(jobId).SubmitAsync(new JobRequest
        {
            Kernel = "montecarlo-pi",
            ParametersJson = parameters,
            Redundancy = redundancy,
        });
        Assert.True(outcome.Accepted, outcome.Error);
        return jobId;
    }

    private async Task<(string NodeId, string Operator)> RegisterNodeAsync()
    {
        var nodeId = "node-" + Guid.NewGuid().ToString("N")[..8];
        var operatorAddress = "0x" + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + "00000000";
        await Grains.GetGrain<INodeGrain>(nodeId).RegisterAsync(new NodeRegistration
        {
            OperatorAddress = operatorAddress,
            SiloAddress = "test",
            Capabilities = Cpu,
        });
        return (nodeId, operatorAddress);
    }

    private Task<RewardAccountView> AccountAsync(string address) => Grains.GetGrain<IRewardAccountGrain>(address).GetAsync();

    private Task<JobView> WaitTerminalAsync(string jobId) =>
        Eventually.WaitAsync(async () => (await Grains.GetGrain<IJobGrain>(jobId).GetAsync())!, j => j.Status.IsTerminal(), $"job {jobId}");
}
