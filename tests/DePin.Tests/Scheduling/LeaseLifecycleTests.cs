using DePin.Abstractions.Jobs;
using DePin.Abstractions.Nodes;
using DePin.Abstractions.Scheduling;
using DePin.Compute.Catalog;
using DePin.Compute.Devices;
using DePin.Silo.Leasing;
using DePin.Silo.Workers;
using DePin.Tests.Infrastructure;
using DePin.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace DePin.Tests.Scheduling;

/// <summary>
/// A lease's life on a real silo: heartbeats (<see cref="IWorkQueueGrain.RenewAsync"/>) keep it past
/// <c>Scheduler:LeaseDuration</c>; without them the shard's sweep hands the unit to another node; and a unit whose lease
/// lapses <c>Scheduler:MaxAttempts</c> times fails its job with the reason. The silo's clock is a <see cref="ShiftedClock"/>
/// the test moves past deadlines, so nothing waits for a lease to run out in real time.
/// </summary>
public sealed class LeaseLifecycleTests(LeaseLifecycleTests.Silo fixture) : IClassFixture<LeaseLifecycleTests.Silo>
{
    /// <summary>Long enough that real time between two steps of a test never lapses a lease; only the shifted clock does.</summary>
    private static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(10);

    /// <summary>One worker-less silo with one queue shard, a 50 ms sweep and three attempts.</summary>
    public sealed class Silo : IAsyncLifetime
    {
        public TestSilo Host { get; private set; } = null!;
        public ShiftedClock Clock { get; } = new();
        public ComputeDevice Device { get; } = ComputeDevice.CreateVectorCpu();

        public async Task InitializeAsync() => Host = await TestSilo.StartAsync(workers: false, new Dictionary<string, string?>
        {
            ["Scheduler:QueueShards"] = "1",
            ["Scheduler:LeaseDuration"] = LeaseDuration.ToString(),
            ["Scheduler:LeaseSweepInterval"] = "00:00:00.050",
            ["Scheduler:MaxAttempts"] = "3",
        }, b => b.Services.AddSingleton<TimeProvider>(Clock));

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
    public async Task Heartbeats_renew_a_lease_past_its_duration_and_no_other_node_gets_the_unit()
    {
        var (a, b) = (await RegisterNodeAsync(), await RegisterNodeAsync());
        var job = await SubmitAsync();
        var lease = Assert.Single(await Shard.LeaseAsync(a, 10, Cpu));
        var expiredBefore = (await Shard.GetStatsAsync()).Expired;

        // Four heartbeats, each 0.6 lease durations after the last: a holds the unit for 2.4 lease durations.
        for (var beat = 1; beat <= 4; beat++)
        {
            fixture.Clock.Advance(LeaseDuration * 0.6);
            Assert.Equal([lease.LeaseId], await Shard.RenewAsync(a, [lease.LeaseId]));
            Assert.Equal(0, await Shard.ExpireLeasesAsync());
            Assert.Empty(await Shard.LeaseAsync(b, 10, Cpu));
        }

        Assert.Equal(1, (await Shard.ReportAsync(a, [Execute(lease)])).Verified);
        Assert.Equal(JobStatus.Completed, (await WaitTerminalAsync(job)).Status);
        Assert.Equal(expiredBefore, (await Shard.GetStatsAsync()).Expired);
    }

    [Fact]
    public async Task The_real_worker_loop_keeps_a_slow_units_lease_by_heartbeat()
    {
        var other = await RegisterNodeAsync();
        var nodeId = await RegisterNodeAsync();
        var job = await SubmitAsync();
        var expiredBefore = (await Shard.GetStatsAsync()).Expired;

        // The production worker loop and in-cluster transport; only the report waits for the test, as a slow unit would.
        var transport = new SlowReportTransport(new ClusterWorkTransport(nodeId, Cpu, fixture.Host.Services.GetRequiredService<LeaseBroker>(),
            Grains, NullLogger.Instance));
        using var device = ComputeDevice.CreateVectorCpu();
        using var executor = new DeviceExecutor(device, KernelCatalog.Default);
        var worker = new NodeWorker(nodeId, transport, executor,
            new WorkerLoopOptions { BatchSize = 8, LongPollWait = TimeSpan.FromSeconds(1), HeartbeatInterval = TimeSpan.FromMilliseconds(100) },
            NullLogger.Instance);
        using var stop = new CancellationTokenSource();
        var run = worker.RunAsync(stop.Token);
        try
        {
            await transport.Leased.Task.WaitAsync(TimeSpan.FromSeconds(30));
            for (var beat = 1; beat <= 4; beat++)
            {
                var heartbeats = transport.HeartbeatsHolding;
                fixture.Clock.Advance(LeaseDuration * 0.6);
                // Two more heartbeats: at least one whole renewal after the clock moved.
                await Eventually.WaitAsync(() => Task.FromResult(transport.HeartbeatsHolding), n => n >= heartbeats + 2, $"heartbeat {beat}");
                Assert.Equal(0, await Shard.ExpireLeasesAsync());
                Assert.Empty(await Shard.LeaseAsync(other, 10, Cpu));
            }

            transport.FinishUnits();
            Assert.Equal(JobStatus.Completed, (await WaitTerminalAsync(job)).Status);
            Assert.Equal(expiredBefore, (await Shard.GetStatsAsync()).Expired);
        }
        finally
        {
            transport.FinishUnits();
            await stop.CancelAsync();
            await run;
        }
    }

    [Fact]
    public async Task A_node_that_stops_heartbeating_loses_the_unit_to_another_node_after_the_lease_duration()
    {
        var (a, b) = (await RegisterNodeAsync(), await RegisterNodeAsync());
        var job = await SubmitAsync();
        var lease = Assert.Single(await Shard.LeaseAsync(a, 10, Cpu));
        fixture.Clock.Advance(LeaseDuration * 0.6);
        Assert.Equal([lease.LeaseId], await Shard.RenewAsync(a, [lease.LeaseId]));

        // a goes silent. Just short of the renewed deadline the unit is still a's...
        fixture.Clock.Advance(LeaseDuration * 0.9);
        Assert.Equal(0, await Shard.ExpireLeasesAsync());
        Assert.Empty(await Shard.LeaseAsync(b, 10, Cpu));

        // ...past it, the shard's own sweep (not this test) returns it to the queue and b gets it.
        fixture.Clock.Advance(LeaseDuration * 0.2);
        var retry = Assert.Single(await Eventually.WaitAsync(() => Shard.LeaseAsync(b, 10, Cpu), l => l.Count > 0, "the sweep to expire a's lease"));
        Assert.Equal(lease.Unit, retry.Unit);
        Assert.Equal(2, retry.Attempt);
        Assert.Empty(await Shard.RenewAsync(a, [lease.LeaseId])); // a's heartbeat no longer holds it

        Assert.Equal(1, (await Shard.ReportAsync(b, [Execute(retry)])).Verified);
        Assert.Equal(JobStatus.Completed, (await WaitTerminalAsync(job)).Status);
    }

    [Fact]
    public async Task A_unit_whose_lease_expires_MaxAttempts_times_fails_its_job_with_the_reason()
    {
        var job = await SubmitAsync();
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            var node = await RegisterNodeAsync();
            var lease = Assert.Single(await Shard.LeaseAsync(node, 10, Cpu));
            Assert.Equal(attempt, lease.Attempt);
            var expired = (await Shard.GetStatsAsync()).Expired;
            fixture.Clock.Advance(LeaseDuration + TimeSpan.FromSeconds(1));
            await Eventually.WaitAsync(Shard.GetStatsAsync, s => s.Expired > expired, $"expiry {attempt}");
        }

        var failed = await WaitTerminalAsync(job);
        Assert.Equal(JobStatus.Failed, failed.Status);
        Assert.Contains("lease expired 3 times", failed.Error);
        Assert.Empty(await Shard.LeaseAsync(await RegisterNodeAsync(), 10, Cpu)); // the unit is gone with its job
    }

    /// <summary>Passes everything through, but holds reports until <see cref="FinishUnits"/>; counts heartbeats that renew a held batch.</summary>
    private sealed class SlowReportTransport(IWorkTransport inner) : IWorkTransport
    {
        private readonly TaskCompletionSource _finish = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _heartbeatsHolding;

        public TaskCompletionSource Leased { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int HeartbeatsHolding => Volatile.Read(ref _heartbeatsHolding);
        public void FinishUnits() => _finish.TrySetResult();

        public async Task<LeaseBatch> LeaseAsync(int max, TimeSpan wait, CancellationToken cancellationToken)
        {
            var batch = await inner.LeaseAsync(max, wait, cancellationToken);
            if (batch.Leases.Count > 0) Leased.TrySetResult();
            return batch;
        }

        public async Task ReportAsync(LeaseBatch batch, IReadOnlyList<UnitResult> results, CancellationToken cancellationToken)
        {
            await _finish.Task;
            await inner.ReportAsync(batch, results, cancellationToken);
        }

        public async Task HeartbeatAsync(IReadOnlyCollection<LeaseBatch> held, CancellationToken cancellationToken)
        {
            await inner.HeartbeatAsync(held, cancellationToken);
            if (held.Count > 0) Interlocked.Increment(ref _heartbeatsHolding);
        }
    }

    private UnitResult Execute(WorkUnitLease lease)
    {
        var output = KernelCatalog.Default.Get(lease.Kernel)
            .Execute(fixture.Device, new KernelUnit(lease.CanonicalParameters, lease.Unit.Index, lease.UnitCount, lease.Input));
        return new UnitResult { LeaseId = lease.LeaseId, Unit = lease.Unit, Output = output, Digest = ResultDigest.Of(output) };
    }

    private async Task<string> SubmitAsync()
    {
        var jobId = Guid.NewGuid().ToString("N");
        var outcome = await Grains.GetGrain<IJobGrain>(jobId).SubmitAsync(new JobRequest
        {
            Kernel = "montecarlo-pi",
            ParametersJson = """{"samples": 1000, "units": 1, "seed": 3}""",
        });
        Assert.True(outcome.Accepted, outcome.Error);
        return jobId;
    }

    private async Task<string> RegisterNodeAsync()
    {
        var nodeId = "node-" + Guid.NewGuid().ToString("N")[..8];
        await Grains.GetGrain<INodeGrain>(nodeId).RegisterAsync(new NodeRegistration
        {
            OperatorAddress = "0x" + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + "00000000",
            SiloAddress = "test",
            Capabilities = Cpu,
        });
        return nodeId;
    }

    private Task<JobView> WaitTerminalAsync(string jobId) =>
        Eventually.WaitAsync(async () => (await Grains.GetGrain<IJobGrain>(jobId).GetAsync())!, j => j.Status.IsTerminal(), $"job {jobId}");
}
