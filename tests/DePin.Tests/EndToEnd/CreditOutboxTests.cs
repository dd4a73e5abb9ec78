using System.Collections.Concurrent;
using System.Net;
using DePin.Abstractions.Jobs;
using DePin.Abstractions.Nodes;
using DePin.Abstractions.Rewards;
using DePin.Grains.Rewards;
using DePin.Tests.Infrastructure;
using Xunit.Abstractions;

namespace DePin.Tests.EndToEnd;

/// <summary>
/// Exactly-once credits while grain storage fails: a real silo with its worker, whose <c>depin</c> storage fails writes
/// of jobs and reward accounts (<see cref="FaultyGrainStorage"/>).
/// </summary>
public sealed class CreditOutboxTests(ITestOutputHelper output)
{
    private static readonly Dictionary<string, string?> FastRetries = new()
    {
        // Small chunks spread each job over every shard: many batches, so many job and account writes to fail.
        ["Scheduler:UnitsPerShardChunk"] = "8",
        ["Scheduler:LeaseDuration"] = "00:00:03",
        ["Scheduler:CreditRetryInterval"] = "00:00:00.2",
        // The injected failures are logged by Orleans and the grains on every retry; the assertions tell the story.
        ["Logging:LogLevel:Default"] = "Critical",
    };

    [Fact]
    public async Task Credits_are_exact_while_job_and_account_writes_fail_at_random()
    {
        var faults = new FaultyGrainStorage(seed: 20261127);
        await using var silo = await TestSilo.StartAsync(workers: true, FastRetries, b => FaultyGrainStorage.Install(b, faults));
        var operators = await OperatorsAsync(silo);

        var submitted = new List<JobView>();
        for (var i = 0; i < 4; i++)
        {
            var units = 200 + 50 * i;
            var response = await silo.Http.PostJobAsync(new { kernel = "montecarlo-pi", parameters = new { samples = units * 500, units, seed = i } });
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            submitted.Add(await response.ReadAsync<JobView>());
        }
        faults.FailShare(0.2, "job", "account", "outputs");

        // Watch every account while the jobs run: a cumulative amount must never go down.
        using var stop = new CancellationTokenSource();
        var decreases = new ConcurrentQueue<string>();
        var watch = Task.Run(async () =>
        {
            var last = operators.ToDictionary(a => a, _ => 0L);
            while (!stop.IsCancellationRequested)
            {
                foreach (var address in operators)
                {
                    var amount = (await silo.Grains.GetGrain<IRewardAccountGrain>(address).GetAsync()).CumulativeMicroCredits;
                    if (amount < last[address]) decreases.Enqueue($"{address}: {last[address]} -> {amount}");
                    last[address] = amount;
                }
                await Task.Delay(20, CancellationToken.None);
            }
        });

        var jobs = new List<JobView>();
        foreach (var job in submitted)
        {
            jobs.Add(await Eventually.WaitAsync(() => silo.Http.GetAsync<JobView>($"/jobs/{job.JobId}"), j => j.Status.IsTerminal(),
                $"job {job.JobId} to finish", TimeSpan.FromMinutes(4)));
        }
        var injectedWhileRunning = faults.Failures;

        var expectedCredits = jobs.Sum(j => j.PriceMicroCredits);
        var expectedUnits = jobs.Sum(j => (long)j.UnitCount);
        // Faults go on: the job outboxes must drain through them.
        // Counted as stored, not as an activation holds it in memory (which may be ahead of storage).
        var credited = await Eventually.WaitAsync(() => StoredTotalAsync(faults, operators), t => t.Credits >= expectedCredits,
            "every credit to be stored in an account", TimeSpan.FromMinutes(2));
        faults.Stop();
        await stop.CancelAsync();
        await watch;

        Assert.All(jobs, j => Assert.Equal(JobStatus.Completed, j.Status));
        Assert.Equal(expectedCredits, credited.Credits);
        Assert.Equal(expectedUnits, credited.Units);
        Assert.Empty(decreases);
        Assert.True(injectedWhileRunning > 0, "no write failed while the jobs ran");
        // Still exact once every retry has had its chance.
        Assert.Equal((expectedCredits, expectedUnits), await StoredTotalAsync(faults, operators));
        Assert.Equal((expectedCredits, expectedUnits), await TotalAsync(silo, operators));
        output.WriteLine($"{expectedUnits} units; {injectedWhileRunning} writes failed while the jobs ran, {faults.Failures} in all");
    }

    [Fact]
    public async Task A_credit_retried_after_a_failed_account_write_is_counted()
    {
        var faults = new FaultyGrainStorage(seed: 1);
        await using var silo = await TestSilo.StartAsync(workers: false, settings: null, b => FaultyGrainStorage.Install(b, faults));
        var account = silo.Grains.GetGrain<IRewardAccountGrain>("0x" + new string('a', 40));
        var credit = new UnitCredit("job-retried", 3, "node-1/cpu-0", 125);

        faults.FailNext(1, "account");
        await Assert.ThrowsAnyAsync<Exception>(() => account.CreditAsync([credit]));
        Assert.Equal(1, faults.Failures);

        Assert.Equal(125, await account.CreditAsync([credit]));
        Assert.Equal(0, await account.CreditAsync([credit]));
        var view = await account.GetAsync();
        Assert.Equal(125, view.CumulativeMicroCredits);
        Assert.Equal(1, view.UnitsCredited);
        var stored = await faults.ReadStoredAsync<RewardAccountState>("account", account.GetGrainId());
        Assert.Equal(125, stored.CumulativeMicroCredits);
    }

    [Fact]
    public async Task Credits_owed_when_a_job_finishes_are_paid_with_no_further_call()
    {
        var faults = new FaultyGrainStorage(seed: 2);
        await using var silo = await TestSilo.StartAsync(workers: true, FastRetries, b => FaultyGrainStorage.Install(b, faults));
        var operators = await OperatorsAsync(silo);

        // Every account write fails until the job has finished, so its last flush fails too; nothing calls it after.
        faults.FailNext(int.MaxValue, "account");
        var response = await silo.Http.PostJobAsync(new { kernel = "montecarlo-pi", parameters = new { samples = 32_000, units = 32, seed = 5 } });
        var job = await response.ReadAsync<JobView>();
        job = await Eventually.WaitAsync(() => silo.Http.GetAsync<JobView>($"/jobs/{job.JobId}"), j => j.Status.IsTerminal(),
            $"job {job.JobId} to finish", TimeSpan.FromMinutes(2));
        Assert.Equal(JobStatus.Completed, job.Status);
        Assert.Equal((0L, 0L), await TotalAsync(silo, operators));
        faults.Stop();

        var credited = await Eventually.WaitAsync(() => StoredTotalAsync(faults, operators), t => t.Credits >= job.PriceMicroCredits,
            "the owed credits", TimeSpan.FromMinutes(1));
        Assert.Equal((job.PriceMicroCredits, (long)job.UnitCount), credited);
        Assert.Equal(credited, await TotalAsync(silo, operators));
    }

    private static async Task<string[]> OperatorsAsync(TestSilo silo)
    {
        var nodes = await Eventually.WaitAsync(() => silo.Http.GetAsync<NodeView[]>("/nodes"), n => n.Length > 0, "the worker to register");
        return [.. nodes.Select(n => n.OperatorAddress).Distinct()];
    }

    private static async Task<(long Credits, long Units)> StoredTotalAsync(FaultyGrainStorage storage, IEnumerable<string> operators)
    {
        var states = await Task.WhenAll(operators.Select(a =>
            storage.ReadStoredAsync<RewardAccountState>("account", GrainId.Create("rewardaccount", a))));
        return (states.Sum(s => s.CumulativeMicroCredits), states.Sum(s => s.UnitsCredited));
    }

    private static async Task<(long Credits, long Units)> TotalAsync(TestSilo silo, IEnumerable<string> operators)
    {
        var views = await Task.WhenAll(operators.Select(a => silo.Grains.GetGrain<IRewardAccountGrain>(a).GetAsync()));
        return (views.Sum(v => v.CumulativeMicroCredits), views.Sum(v => v.UnitsCredited));
    }
}
