using System.Diagnostics;
using DePin.Cluster.Tests.Infrastructure;

namespace DePin.Cluster.Tests;

/// <summary>
/// Fault tests with real silo processes and a real redis-server: a killed silo (the one that holds the queue shards),
/// a Redis crash, a drained silo and a silo joining mid-run each still yield the correct result with every unit paid
/// exactly once. Each fault lands while units are leased, which the tests check at the moment of the fault.
/// </summary>
public sealed class FailoverTests(ITestOutputHelper output)
{
    private const int Units = 10_000;
    private const long SamplesPerUnit = 20_000;
    private const int QueueShards = 8; // SchedulerOptions.QueueShards default
    private static readonly TimeSpan JobTimeout = TimeSpan.FromSeconds(120);
    private static readonly Lazy<Dictionary<long, string>> Expected = new(() => []);

    private static string ExpectedDigest(long seed)
    {
        lock (Expected.Value)
        {
            if (!Expected.Value.TryGetValue(seed, out var digest))
                Expected.Value[seed] = digest = LocalCluster.ExpectedMonteCarloDigest(Units, SamplesPerUnit, seed);
            return digest;
        }
    }

    private static bool Progress(System.Text.Json.JsonElement job, double fraction) =>
        job.GetProperty("unitsCompleted").GetInt32() >= Units * fraction;

    /// <summary>
    /// Units in flight right now: the job is neither untouched nor done and shards have units leased. Checked just
    /// before each fault, so the test proves recovery of work that was under way, not of an idle queue.
    /// </summary>
    private async Task AssertInFlightAsync(LocalCluster cluster, ClusterAdmin admin, string jobId, string what)
    {
        var (leased, ready) = await admin.WaitLeasedAsync(QueueShards, TimeSpan.FromSeconds(30));
        var done = (await cluster.WaitJobAsync(jobId, _ => true, "job view", JobTimeout)).GetProperty("unitsCompleted").GetInt32();
        output.WriteLine($"{what}: {done}/{Units} units verified, {leased} leased, {ready} ready");
        Assert.InRange(done, 1, Units - 1);
        Assert.True(leased > 0, $"{what}: no unit was leased at the fault (nothing in flight)");
    }

    [Fact]
    public async Task Kill9_of_the_silo_holding_the_queue_shards_mid_run_loses_no_unit_and_pays_each_once()
    {
        var expected = Task.Run(() => ExpectedDigest(11));
        // Two API silos: whichever silo holds the shards, an API survives its kill.
        await using var cluster = await LocalCluster.StartAsync(output, ("s0", "api,gpu"), ("s1", "api,gpu"), ("s2", "gpu"));
        await using var admin = await ClusterAdmin.ConnectAsync(cluster);
        var (jobId, price) = await cluster.SubmitMonteCarloAsync(Units, SamplesPerUnit, 11);
        await cluster.WaitJobAsync(jobId, j => Progress(j, 0.10), "10% progress", JobTimeout);

        // The victim is where Orleans' grain directory says the queue shards are activated (not a guess by role).
        var (victim, perSilo) = await admin.QueueShardHolderAsync(QueueShards, JobTimeout);
        output.WriteLine($"queue shards per silo: {perSilo}");
        await AssertInFlightAsync(cluster, admin, jobId, $"kill of {victim.Name}");
        var started = Stopwatch.StartNew();
        victim.Kill();
        output.WriteLine($"killed silo {victim.Name} (pid {victim.Pid}), which held queue shards");

        await cluster.AssertCompletedExactlyOnceAsync(jobId, price, Units, await expected, JobTimeout);
        output.WriteLine($"completed {started.Elapsed.TotalSeconds:F1} s after the kill");
        var (after, _) = await admin.QueueShardHolderAsync(QueueShards, JobTimeout);
        Assert.NotEqual(victim.Pid, after.Pid); // the shards really moved to a surviving silo
    }

    [Fact]
    public async Task Redis_crash_and_restart_mid_run_recovers_and_completes_and_fresh_silos_read_it_back()
    {
        var expected = Task.Run(() => ExpectedDigest(12));
        // Restarted after the run while the other killed silo is still listed active: join without waiting for it.
        var joinAnyway = new Dictionary<string, string> { ["Silo:Membership:ValidateInitialConnectivity"] = "false" };
        await using var cluster = await LocalCluster.StartRedisOnlyAsync(output);
        await cluster.AddSiloAsync("s0", "api,gpu", joinAnyway);
        await cluster.AddSiloAsync("s1", "gpu", joinAnyway);
        await using (var admin = await ClusterAdmin.ConnectAsync(cluster))
        {
            var (jobId, price) = await cluster.SubmitMonteCarloAsync(Units, SamplesPerUnit, 12);
            await cluster.WaitJobAsync(jobId, j => Progress(j, 0.10), "10% progress", JobTimeout);

            // SIGKILL, 1 s outage, restart on the same port from the fsynced append-only file.
            await AssertInFlightAsync(cluster, admin, jobId, "Redis crash");
            await cluster.Redis.CrashAndRestartAsync(TimeSpan.FromSeconds(1));
            output.WriteLine("redis restarted");

            await cluster.AssertCompletedExactlyOnceAsync(jobId, price, Units, await expected, JobTimeout);
            Assert.All(cluster.Silos, s => Assert.False(s.HasExited, $"silo {s.Name} exited: {s.Tail()}"));

            // What the cluster reported must be what Redis holds, not only what its grains hold in memory: kill every
            // silo (no graceful write-back), start them again as fresh processes (on their own endpoints, so the dead
            // ones are replaced at once) and read the job and the accounts back through them.
            var reported = await AccountTotalsAsync(cluster);
            var old = cluster.Live;
            foreach (var silo in old) silo.Kill();
            await Task.WhenAll(old.Select(cluster.RestartAsync));
            Assert.DoesNotContain(cluster.Api, old);
            var job = await cluster.WaitJobAsync(jobId, _ => true, "job read back", JobTimeout);
            output.WriteLine($"read back through fresh silo processes: {job}");
            Assert.Equal("Completed", job.GetProperty("status").GetString());
            Assert.Equal(await expected, job.GetProperty("resultDigest").GetString());
            Assert.Equal(Units, job.GetProperty("unitsCompleted").GetInt32());
            var stored = await AccountTotalsAsync(cluster);
            Assert.Equal(reported, stored);
            Assert.Equal((price, (long)Units), (stored.Values.Sum(a => a.Credits), stored.Values.Sum(a => a.Units)));
        }
    }

    private static async Task<Dictionary<string, (long Credits, long Units)>> AccountTotalsAsync(LocalCluster cluster)
    {
        var totals = new Dictionary<string, (long, long)>();
        foreach (var address in cluster.OperatorAddresses)
        {
            var account = await cluster.Api.GetJsonAsync($"/accounts/{address}");
            totals[address] = account is { } a ? (a.GetProperty("cumulativeMicroCredits").GetInt64(), a.GetProperty("unitsCredited").GetInt64()) : (0, 0);
        }
        return totals;
    }

    [Fact]
    public async Task Sigterm_drains_a_silo_which_exits_0_without_losing_or_duplicating_units()
    {
        var expected = Task.Run(() => ExpectedDigest(13));
        await using var cluster = await LocalCluster.StartAsync(output, ("s0", "api,gpu"), ("s1", "gpu"), ("s2", "gpu"));
        var (jobId, price) = await cluster.SubmitMonteCarloAsync(Units, SamplesPerUnit, 13);
        await cluster.WaitJobAsync(jobId, j => Progress(j, 0.10), "10% progress", JobTimeout);

        var victim = cluster.Silos[1];
        victim.Terminate();
        Assert.True(await victim.WaitForExitAsync(TimeSpan.FromSeconds(45)), $"silo {victim.Name} did not exit after SIGTERM:\n{victim.Tail()}");
        output.WriteLine($"silo {victim.Name} exited {victim.ExitCode}");
        Assert.Equal(0, victim.ExitCode);
        Assert.Contains("Workers drained", victim.Log);

        await cluster.AssertCompletedExactlyOnceAsync(jobId, price, Units, await expected, JobTimeout);
    }

    [Fact]
    public async Task A_silo_added_mid_run_picks_up_work_and_an_api_only_silo_runs_none()
    {
        var expected = Task.Run(() => ExpectedDigest(14));
        await using var cluster = await LocalCluster.StartAsync(output, ("api", "api"), ("g1", "gpu"));
        var (jobId, price) = await cluster.SubmitMonteCarloAsync(Units, SamplesPerUnit, 14);
        await cluster.WaitJobAsync(jobId, j => Progress(j, 0.05), "5% progress", JobTimeout);

        var added = await cluster.AddSiloAsync("g2", "gpu");
        await cluster.AssertCompletedExactlyOnceAsync(jobId, price, Units, await expected, JobTimeout);

        var nodes = await cluster.NodesAsync();
        output.WriteLine(string.Join(", ", nodes.Select(n => $"{n.Key}={n.Value}")));
        Assert.DoesNotContain(nodes.Keys, k => k.StartsWith("api/", StringComparison.Ordinal)); // pull model: no worker on api silos
        Assert.True(nodes.GetValueOrDefault($"{added.Name}/cpu0") > 0, $"the added silo verified no unit: {string.Join(", ", nodes)}");
        Assert.Equal(Units, nodes.Values.Sum());
    }
}
