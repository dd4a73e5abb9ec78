using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using DePin.Abstractions.Jobs;
using DePin.Abstractions.Rewards;
using DePin.Abstractions.Scheduling;
using DePin.Cluster.Tests.Infrastructure;

namespace DePin.Cluster.Tests;

/// <summary>
/// The money path under everything at once: three silo processes over Redis with storage faults injected into every
/// silo (<c>Silo:FaultInjection</c>: failed writes, writes that fail after landing, timeouts), six montecarlo-pi jobs,
/// and while units are in flight a kill -9 of the silo holding most queue shards, a Redis crash, a kill -9 of the
/// silo holding the ledger and one of the silo holding a running job (each killed silo restarted on its own ports).
/// Every job must end with the digest of an undisturbed run, the credits over all accounts must equal the job prices
/// exactly, no account's cumulative amount may ever go down, and the epochs closed during the run must add up.
/// </summary>
public sealed class MoneyPathFaultTests(ITestOutputHelper output)
{
    private const int Jobs = 6;
    private const int LateJobs = 2;
    private const int UnitsPerJob = 3_400;
    private const int TotalUnits = Jobs * UnitsPerJob;
    private const long SamplesPerUnit = 10_000;
    private const int QueueShards = 8; // SchedulerOptions.QueueShards default
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(120);

    private static Dictionary<string, string> Faults(int seed) => new()
    {
        ["Silo:FaultInjection:WriteFailureRate"] = "0.03",
        ["Silo:FaultInjection:TimeoutRate"] = "0.01",
        ["Silo:FaultInjection:TimeoutDelay"] = "00:00:00.500",
        ["Silo:FaultInjection:Seed"] = seed.ToString(CultureInfo.InvariantCulture),
        // The reconciler (a job's safety net for units found nowhere) acts well within the stall window below.
        ["Scheduler:ReconcileAfter"] = "00:00:10",
        ["Scheduler:ReconcileInterval"] = "00:00:02",
    };

    // Fails today on grain bugs it finds (lost units, double payment, jobs created by failed submits): each is reported
    // with job, unit indexes and per-operator figures in the failure message, after every other check has run.
    [Fact]
    [Trait("Category", "MoneyPath")]
    public async Task Storage_faults_silo_kills_and_a_Redis_crash_mid_run_keep_results_and_pay_each_unit_once()
    {
        var started = Stopwatch.StartNew();
        var expected = Task.Run(() => Enumerable.Range(0, Jobs).Select(j => LocalCluster.ExpectedMonteCarloDigest(UnitsPerJob, SamplesPerUnit, 200 + j)).ToArray());

        await using var cluster = await LocalCluster.StartRedisOnlyAsync(output);
        await cluster.AddSiloAsync("s0", "api,gpu", Faults(1));
        await Task.WhenAll(cluster.AddSiloAsync("s1", "api,gpu", Faults(2)), cluster.AddSiloAsync("s2", "gpu", Faults(3)));
        await using var admin = await ClusterAdmin.ConnectAsync(cluster);
        output.WriteLine($"cluster up after {started.Elapsed.TotalSeconds:F1} s");

        // Jobs are submitted along the run (two at the start, one before each later fault, the last two before the last
        // one), and each fault waits until a fresh job is under way: work is surely in flight at every fault, however
        // fast the machine.
        var jobs = new List<(string Id, long Price)>();
        async Task<string> UnderWayAsync(int count)
        {
            var fresh = new List<(string Id, long Price)>();
            for (var n = 0; n < count; n++) fresh.Add(await cluster.SubmitMonteCarloAsync(UnitsPerJob, SamplesPerUnit, 200 + jobs.Count + n));
            jobs.AddRange(fresh);
            return await RunningJobAsync(cluster, fresh);
        }
        long totalPrice = 0;

        using var stopWatching = new CancellationTokenSource();
        var watch = WatchAccountsAsync(cluster, stopWatching.Token);
        var epochsClosed = new List<long>();
        List<string> orphans = [];
        List<string> grainBugs = [];

        try
        {
            // 1. kill -9 of the silo that holds most queue shards (found through the management grain).
            await UnderWayAsync(2);
            await KillAndRestartAsync(cluster, admin, jobs, "queue shards", await ShardHolderAsync(admin));
            epochsClosed.AddRange(await CloseEpochAsync(cluster));

            // 2. Redis SIGKILL and restart from its fsynced append-only file; the silos ride it out.
            await UnderWayAsync(1);
            await AssertInFlightAsync(cluster, admin, jobs, "Redis crash");
            await cluster.Redis.CrashAndRestartAsync(TimeSpan.FromSeconds(1));
            output.WriteLine($"[{started.Elapsed.TotalSeconds:F1} s] redis restarted");
            Assert.All(cluster.Live, s => Assert.False(s.HasExited));

            // 3. kill -9 of the silo that holds the ledger.
            epochsClosed.AddRange(await CloseEpochAsync(cluster)); // activates the ledger
            await UnderWayAsync(1);
            var ledger = await admin.HostOfAsync(admin.Client.GetGrain<ILedgerGrain>(0), Generous)
                ?? throw new InvalidOperationException("the ledger is not activated anywhere");
            await KillAndRestartAsync(cluster, admin, jobs, "the ledger", ledger);
            epochsClosed.AddRange(await CloseEpochAsync(cluster));

            // 4. kill -9 of the silo that holds a job that is still running.
            var running = await UnderWayAsync(LateJobs);
            var jobHost = await admin.HostOfAsync(admin.Client.GetGrain<IJobGrain>(running), Generous)
                ?? throw new InvalidOperationException($"job {running} is not activated anywhere");
            await KillAndRestartAsync(cluster, admin, jobs, $"job {running}", jobHost);

            // A submit that failed (fault injected) and was retried under its Idempotency-Key must not leave a second job.
            var listed = (await RetriedAsync(() => cluster.Api.GetJsonAsync("/jobs?limit=1000")))!.Value.EnumerateArray().Select(j => j.GetProperty("jobId").GetString()!).ToList();
            orphans = listed.Except(jobs.Select(j => j.Id)).ToList();

            // --- every job completes (or the run stalls: no unit verified for 45 s) ---
            var views = await WaitDoneOrStalledAsync(cluster, [.. jobs.Select(j => j.Id), .. orphans]);
            var digests = await expected;
            for (var j = 0; j < Jobs; j++)
            {
                var job = views[jobs[j].Id];
                if (job.GetProperty("status").GetString() != "Completed")
                {
                    grainBugs.Add($"job {jobs[j].Id} stuck {job.GetProperty("status")} at {job.GetProperty("unitsCompleted")}/{UnitsPerJob}: {await WhereAreTheUnitsAsync(cluster, jobs[j].Id)}; shards now: {await ShardStatsAsync(admin)}");
                    continue;
                }
                Assert.Equal(digests[j], job.GetProperty("resultDigest").GetString());
                Assert.Equal(UnitsPerJob, job.GetProperty("unitsCompleted").GetInt32());
            }
            foreach (var orphan in orphans) output.WriteLine($"job nobody was given the id of: {views[orphan]}");
            output.WriteLine($"[{started.Elapsed.TotalSeconds:F1} s] {views.Values.Count(v => v.GetProperty("status").GetString() == "Completed")} of {views.Count} jobs completed");

            // --- credits: exactly what the verified units are worth (the prices, once every job completed), each unit once ---
            var owedUnits = views.Values.Sum(v => v.GetProperty("unitsCompleted").GetInt32());
            var owed = views.Values.Sum(v => v.GetProperty("unitsCompleted").GetInt32() * v.GetProperty("pricePerUnitMicroCredits").GetInt64());
            var (credits, units) = await WaitCreditsAsync(cluster, owedUnits);
            output.WriteLine($"[{started.Elapsed.TotalSeconds:F1} s] {units} units credited, {credits} micro-credits (owed {owed} for {owedUnits} units; prices of the 6 jobs {jobs.Sum(j => j.Price)})");
            Assert.True(units >= owedUnits, $"only {units} of {owedUnits} verified units were credited within {Generous}");
            if (units != owedUnits || credits != owed)
            {
                // Reported with the other grain bugs at the end, so the ledger checks below still run.
                grainBugs.Add($"paid {credits} micro-credits for {units} units, owed {owed} for {owedUnits} verified units: "
                    + $"{units - owedUnits} units paid twice. Per operator (credited units / units its nodes verified): {await PerOperatorAsync(cluster)}");
            }
            totalPrice = credits;
            epochsClosed.AddRange(await CloseEpochAsync(cluster));
        }
        catch
        {
            cluster.DumpLogs();
            throw;
        }
        finally
        {
            await stopWatching.CancelAsync();
        }

        // --- no account's cumulative amount ever went down (polled throughout) ---
        var (samples, decreases) = await watch;
        output.WriteLine($"{samples} account samples taken during the run");
        Assert.True(samples > 0, "the account watcher never read an account");
        Assert.True(decreases.IsEmpty, "an account's cumulative credits went down: " + string.Join("; ", decreases));

        // --- epochs: numbered without gaps, cumulative totals never down, the last one holds every credit ---
        var epochs = (await cluster.Api.GetJsonAsync("/epochs?limit=1000"))!.Value.EnumerateArray().OrderBy(e => e.GetProperty("epoch").GetInt64()).ToList();
        output.WriteLine("epochs: " + string.Join(", ", epochs.Select(e =>
            $"{e.GetProperty("epoch").GetInt64()}: +{e.GetProperty("epochMicroCredits").GetInt64()} = {e.GetProperty("totalCumulativeMicroCredits").GetInt64()} ({e.GetProperty("state")})")));
        Assert.NotEmpty(epochs);
        Assert.Equal(Enumerable.Range(1, epochs.Count).Select(i => (long)i), epochs.Select(e => e.GetProperty("epoch").GetInt64()));
        Assert.Subset(epochs.Select(e => e.GetProperty("epoch").GetInt64()).ToHashSet(), epochsClosed.ToHashSet());
        long previous = 0;
        foreach (var epoch in epochs)
        {
            var total = epoch.GetProperty("totalCumulativeMicroCredits").GetInt64();
            Assert.Equal(total - previous, epoch.GetProperty("epochMicroCredits").GetInt64());
            Assert.True(total > previous, $"epoch {epoch.GetProperty("epoch")} total {total} after {previous}");
            previous = total;
        }
        Assert.Equal(totalPrice, previous);

        var injected = cluster.Silos.Sum(s => s.Log.Split('\n').Count(l => l.Contains("Injected storage fault", StringComparison.Ordinal)));
        output.WriteLine($"{injected} storage faults injected; whole test {started.Elapsed.TotalSeconds:F1} s");
        Assert.True(injected > 0, "no storage fault was injected");

        // Grain bugs this test finds are collected (so every check above still runs) and reported here, marked:
        // * ClientGrain.SubmitAsync / JobGrain.SubmitAsync: a submit that failed with a storage fault after the job grain
        //   accepted it is not recorded under its Idempotency-Key, so the retry creates a second job; the first one runs
        //   and is paid, though its client was told the submit failed.
        // * Scheduler hand-over (queue shard -> job): a verified unit can leave the shard's stored units without its
        //   output reaching the job's output store, so the job stays Running short of a unit.
        // * Money path: units paid more than once over all accounts (per-account de-dup cannot see a unit paid to two).
        if (orphans.Count > 0)
            grainBugs.Add($"{orphans.Count} job(s) nobody was given an id for (failed submit, retried under the same Idempotency-Key) ran and were paid: {string.Join(", ", orphans)}");
        if (grainBugs.Count > 0) cluster.DumpLogs();
        Assert.True(grainBugs.Count == 0, "KNOWN GRAIN BUG(S):\n" + string.Join("\n", grainBugs));
    }

    /// <summary>
    /// What Redis itself holds for a job that does not complete: unit indexes with no stored output, and for each
    /// whether a queue shard still stores it (read directly, not through any grain).
    /// </summary>
    private static async Task<string> WhereAreTheUnitsAsync(LocalCluster cluster, string jobId)
    {
        await using var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(cluster.Redis.ConnectionString);
        var db = redis.GetDatabase();
        var stored = (await db.HashKeysAsync($"{cluster.ClusterId}/out/{jobId}")).Select(k => int.Parse((string)k!, CultureInfo.InvariantCulture)).ToHashSet();
        var missing = Enumerable.Range(0, UnitsPerJob).Where(i => !stored.Contains(i)).ToList();
        var lines = new List<string> { $"{stored.Count}/{UnitsPerJob} outputs stored; missing {string.Join(", ", missing.Take(20))}" };
        foreach (var index in missing.Take(20))
        {
            var shards = new List<int>();
            for (var shard = 0; shard < QueueShards; shard++)
            {
                if (await db.HashExistsAsync($"{cluster.ClusterId}/wq/{shard}/units", $"{jobId}:{index}")) shards.Add(shard);
            }
            lines.Add($"unit {index}: {(shards.Count == 0 ? "in no shard (lost: neither queued nor output)" : "queued in shard " + string.Join(",", shards))}");
        }
        return string.Join("; ", lines);
    }

    private static async Task<string> ShardStatsAsync(ClusterAdmin admin)
    {
        try
        {
            var stats = await admin.QueueStatsAsync(QueueShards, TimeSpan.FromSeconds(20));
            return string.Join(" ", stats.Select(s => $"[{s.Shard}: ready {s.Ready}, leased {s.Leased}, jobs {s.Jobs}, expired {s.Expired}]"));
        }
        catch (Exception ex)
        {
            return $"(stats unavailable: {ex.Message})";
        }
    }

    private async Task<SiloProcess> ShardHolderAsync(ClusterAdmin admin)
    {
        var (holder, perSilo) = await admin.QueueShardHolderAsync(QueueShards, Generous);
        output.WriteLine($"queue shards per silo: {perSilo}");
        return holder;
    }

    private async Task KillAndRestartAsync(LocalCluster cluster, ClusterAdmin admin, List<(string Id, long Price)> jobs, string what, SiloProcess victim)
    {
        await AssertInFlightAsync(cluster, admin, jobs, $"kill of {victim.Name} ({what})");
        victim.Kill();
        output.WriteLine($"killed silo {victim.Name} (pid {victim.Pid}), which held {what}");
        var restarted = await cluster.RestartAsync(victim);
        output.WriteLine($"restarted silo {restarted.Name} (pid {restarted.Pid})");
    }

    /// <summary>Work is in flight: some but not all units verified, and units leased right now.</summary>
    private async Task AssertInFlightAsync(LocalCluster cluster, ClusterAdmin admin, List<(string Id, long Price)> jobs, string what)
    {
        var (leased, ready) = await admin.WaitLeasedAsync(QueueShards, TimeSpan.FromSeconds(30));
        var done = (await JobViewsAsync(cluster, jobs)).Values.Sum(j => j.GetProperty("unitsCompleted").GetInt32());
        output.WriteLine($"{what}: {done}/{TotalUnits} units verified, {leased} leased, {ready} ready");
        Assert.InRange(done, 1, TotalUnits - 1);
        Assert.True(leased > 0, $"{what}: no unit was leased (nothing in flight)");
    }

    /// <summary>Waits until one of <paramref name="jobs"/> has some units verified and some not; returns its id.</summary>
    private static async Task<string> RunningJobAsync(LocalCluster cluster, List<(string Id, long Price)> jobs)
    {
        var deadline = DateTime.UtcNow + Generous;
        var seen = new Dictionary<string, int>();
        while (DateTime.UtcNow < deadline)
        {
            foreach (var (id, _) in jobs)
            {
                var view = await cluster.WaitJobAsync(id, _ => true, $"job {id}", Generous);
                var done = seen[id] = view.GetProperty("unitsCompleted").GetInt32();
                if (done > 0 && done < UnitsPerJob * 3 / 4) return id;
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"none of the fresh jobs got under way within {Generous}: {string.Join(", ", seen.Select(s => $"{s.Key} at {s.Value}/{UnitsPerJob}"))}");
    }

    private static async Task<Dictionary<string, JsonElement>> JobViewsAsync(LocalCluster cluster, List<(string Id, long Price)> jobs)
    {
        var views = new Dictionary<string, JsonElement>();
        foreach (var (id, _) in jobs)
            views[id] = await cluster.WaitJobAsync(id, _ => true, $"job {id}", Generous);
        return views;
    }

    /// <summary>Polls the jobs until all are Completed or no unit was verified for 45 s (a stall); returns the last views.</summary>
    private async Task<Dictionary<string, JsonElement>> WaitDoneOrStalledAsync(LocalCluster cluster, List<string> ids)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(4);
        var lastDone = -1;
        var lastChange = DateTime.UtcNow;
        while (true)
        {
            var views = new Dictionary<string, JsonElement>();
            foreach (var id in ids) views[id] = await cluster.WaitJobAsync(id, _ => true, $"job {id}", Generous);
            if (views.Values.All(v => v.GetProperty("status").GetString() == "Completed")) return views;
            var done = views.Values.Sum(v => v.GetProperty("unitsCompleted").GetInt32());
            if (done != lastDone) (lastDone, lastChange) = (done, DateTime.UtcNow);
            if (DateTime.UtcNow - lastChange > TimeSpan.FromSeconds(45) || DateTime.UtcNow > deadline)
            {
                output.WriteLine($"stalled at {done} verified units: no progress for {(DateTime.UtcNow - lastChange).TotalSeconds:F0} s");
                return views;
            }
            await Task.Delay(250);
        }
    }

    /// <summary>A read through the API, retried while injected storage faults answer 503.</summary>
    private static async Task<T> RetriedAsync<T>(Func<Task<T>> read)
    {
        var deadline = DateTime.UtcNow + Generous;
        while (true)
        {
            try
            {
                return await read();
            }
            catch (HttpRequestException ex) when (ex.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    /// <summary>Closes the open epoch (retried through injected faults); the epoch number, or none when nothing was new.</summary>
    private async Task<long[]> CloseEpochAsync(LocalCluster cluster)
    {
        var deadline = DateTime.UtcNow + Generous;
        while (true)
        {
            try
            {
                using var r = await cluster.Api.Http.PostAsync("/epochs/close", null);
                if (r.StatusCode == System.Net.HttpStatusCode.NoContent) return [];
                if (r.IsSuccessStatusCode)
                {
                    var epoch = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("epoch").GetInt64();
                    output.WriteLine($"closed epoch {epoch}");
                    return [epoch];
                }
                output.WriteLine($"closing an epoch: {(int)r.StatusCode} (retrying)");
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                output.WriteLine($"closing an epoch: {ex.Message} (retrying)");
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException("could not close an epoch");
            await Task.Delay(250);
        }
    }

    /// <summary>Waits until at least <paramref name="owedUnits"/> units are credited (or the timeout); returns the totals.</summary>
    private static async Task<(long Credits, long Units)> WaitCreditsAsync(LocalCluster cluster, int owedUnits)
    {
        var deadline = DateTime.UtcNow + Generous;
        while (true)
        {
            var accounts = await AccountsAsync(cluster);
            long credits = accounts.Values.Sum(a => a.Credits), units = accounts.Values.Sum(a => a.Units);
            if (units >= owedUnits || DateTime.UtcNow > deadline)
            {
                // Credits still in flight (a resend) may land a moment later: settle for what is there after a second look.
                await Task.Delay(TimeSpan.FromSeconds(2));
                var again = await AccountsAsync(cluster);
                return (again.Values.Sum(a => a.Credits), again.Values.Sum(a => a.Units));
            }
            await Task.Delay(200);
        }
    }

    /// <summary>For each operator: units its account was credited, and units its silo's node verified (GET /nodes).</summary>
    private static async Task<string> PerOperatorAsync(LocalCluster cluster)
    {
        var accounts = await AccountsAsync(cluster);
        var nodes = await cluster.NodesAsync();
        return string.Join("; ", cluster.Silos.GroupBy(s => s.OperatorAddress).Select(g =>
            $"{g.First().Name} {g.Key}: {accounts.GetValueOrDefault(g.Key).Units} credited / {nodes.GetValueOrDefault(g.First().Name + "/cpu0")} verified"));
    }

    private static async Task<Dictionary<string, (long Credits, long Units)>> AccountsAsync(LocalCluster cluster)
    {
        var result = new Dictionary<string, (long, long)>();
        foreach (var address in cluster.OperatorAddresses)
        {
            var account = await cluster.Api.GetJsonAsync($"/accounts/{address}");
            result[address] = account is { } a ? (a.GetProperty("cumulativeMicroCredits").GetInt64(), a.GetProperty("unitsCredited").GetInt64()) : (0, 0);
        }
        return result;
    }

    /// <summary>Polls every account until cancelled; returns how many reads succeeded and every decrease seen.</summary>
    private static async Task<(int Samples, ConcurrentBag<string> Decreases)> WatchAccountsAsync(LocalCluster cluster, CancellationToken stop)
    {
        await Task.Yield();
        var highest = new Dictionary<string, (long Credits, long Units)>();
        var decreases = new ConcurrentBag<string>();
        var samples = 0;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                foreach (var (address, now) in await AccountsAsync(cluster))
                {
                    samples++;
                    var before = highest.GetValueOrDefault(address);
                    if (now.Credits < before.Credits || now.Units < before.Units)
                        decreases.Add($"{address}: {before.Credits} µc/{before.Units} units, then {now.Credits} µc/{now.Units} units at {DateTime.UtcNow:HH:mm:ss.fff}");
                    highest[address] = (Math.Max(now.Credits, before.Credits), Math.Max(now.Units, before.Units));
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or InvalidOperationException)
            {
                // a silo is down or failing over: read again
            }
            try { await Task.Delay(300, stop); } catch (OperationCanceledException) { }
        }
        return (samples, decreases);
    }
}
