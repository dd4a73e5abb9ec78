using DePin.Abstractions.Jobs;
using DePin.Abstractions.Rewards;
using DePin.Abstractions.Scheduling;
using DePin.Node;
using DePin.Tests.Infrastructure;
using Nethereum.Signer;

namespace DePin.Tests.NodeGateway;

/// <summary>
/// Real <c>depin node run</c> processes, each with its own encrypted keystore, against a real API silo that has no
/// workers of its own: a stranger's node runs a job end to end, and kill -9 of an agent mid-job loses nothing.
/// </summary>
public sealed class NodeAgentProcessTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("depin-agents-").FullName;

    [Fact]
    public async Task Units_of_an_agent_killed_mid_job_come_back_and_another_agent_finishes_the_job()
    {
        await using var silo = await TestSilo.StartAsync(workers: false, new Dictionary<string, string?>
        {
            ["Scheduler:LeaseDuration"] = "00:00:03",
            ["Scheduler:LeaseSweepInterval"] = "00:00:00.200",
        });
        var (dirA, passwordA, payoutA) = CreateIdentity("a");
        var (dirB, passwordB, payoutB) = CreateIdentity("b");
        const int units = 48;
        var job = await SubmitAsync(silo, units);

        await using var a = AgentProcess.Start(silo.BaseAddress, dirA, passwordA, "--batch-size", "2");
        // a is working: some units done, and it holds leases right now.
        await Eventually.WaitAsync(() => JobAsync(silo, job), j => j.UnitsCompleted >= 4, $"agent a to complete units; its output:\n{a.Output}", TimeSpan.FromSeconds(60));
        await Eventually.WaitAsync(() => LeasedAsync(silo), n => n > 0, "agent a to hold leases");
        a.Kill();
        var atKill = await JobAsync(silo, job);
        Assert.True(atKill.UnitsCompleted < units, $"the kill landed after the job finished ({atKill.UnitsCompleted}/{units})");
        Assert.True(await LeasedAsync(silo) > 0, "a's leases were gone before the kill");

        await using var b = AgentProcess.Start(silo.BaseAddress, dirB, passwordB, "--batch-size", "8");
        var done = await Eventually.WaitAsync(() => JobAsync(silo, job), j => j.Status.IsTerminal(), $"job completion; b's output:\n{b.Output}", TimeSpan.FromSeconds(90));
        Assert.Equal(JobStatus.Completed, done.Status);
        Assert.Equal(units, done.UnitsCompleted);

        // Every unit paid exactly once, to the operator whose node returned it.
        var (creditedA, creditedB) = await Eventually.WaitAsync(async () => (await CreditedAsync(silo, payoutA), await CreditedAsync(silo, payoutB)),
            c => c.Item1 + c.Item2 == units, "credits for every unit");
        Assert.True(creditedA > 0 && creditedB > 0, $"a: {creditedA}, b: {creditedB}");

        Assert.True(await b.StopAsync(TimeSpan.FromSeconds(30)), "b did not stop on SIGTERM");
        Assert.Equal(0, b.ExitCode);
    }

    [Fact]
    public async Task A_node_agent_process_runs_a_job_through_the_main_programs_api_and_its_operator_is_paid()
    {
        // The main command's program (dotnet DePin.Silo.dll, embedded defaults) in its own process, with no workers:
        // the agent process is the only node, reaching it over the node gateway like a stranger's GPU would.
        await using var silo = await SiloHostProcess.StartAsync(new Dictionary<string, string>());
        var (dir, password, payout) = CreateIdentity("solo");
        await using var agent = AgentProcess.Start(silo.Api, dir, password);

        using var submitted = await silo.Client.PostJobAsync(new { kernel = "montecarlo-pi", parameters = new { samples = 8_000_000, units = 8, seed = 11 } });
        Assert.Equal(System.Net.HttpStatusCode.Accepted, submitted.StatusCode);
        var job = await submitted.ReadAsync<JobView>();
        var done = await Eventually.WaitAsync(() => silo.Client.GetAsync<JobView>($"/jobs/{job.JobId}"), j => j.Status.IsTerminal(),
            $"the job to finish; agent:\n{agent.Output}\nsilo:\n{silo.Output}", TimeSpan.FromSeconds(90));
        Assert.Equal(JobStatus.Completed, done.Status);
        Assert.StartsWith("montecarlo-pi samples=8000000", done.ResultSummary);

        // The operator's earnings are public: every unit credited once, to the payout address the node key was bound to.
        var account = await Eventually.WaitAsync(async () =>
        {
            using var response = await silo.Client.GetAsync($"/accounts/{payout}");
            return response.IsSuccessStatusCode ? await response.ReadAsync<RewardAccountView>() : null;
        }, a => a?.UnitsCredited == 8, "the operator's credits");
        Assert.Contains(account!.Nodes, n => n.StartsWith(NodeIdentity.ReadInfo(dir).NodeAddress + "/", StringComparison.Ordinal));
    }

    private (string Directory, string PasswordFile, string Payout) CreateIdentity(string name)
    {
        var directory = Path.Combine(_root, name);
        var payoutKey = EthECKey.GenerateKey();
        var password = "password-" + name;
        var (identity, _) = NodeIdentity.Create(directory, payoutKey.GetPublicAddress(), payoutKey, null, password, scryptN: 1 << 12);
        var passwordFile = Path.Combine(_root, name + ".password");
        File.WriteAllText(passwordFile, password);
        return (directory, passwordFile, identity.Info.PayoutAddress);
    }

    private static async Task<string> SubmitAsync(TestSilo silo, int units)
    {
        var jobId = Guid.NewGuid().ToString("N");
        var outcome = await silo.Grains.GetGrain<IJobGrain>(jobId).SubmitAsync(new JobRequest
        {
            Kernel = "montecarlo-pi",
            // ~10 M samples a unit: long enough that the kill lands mid-job on a busy 2-core machine.
            ParametersJson = $$"""{"samples": {{units * 10_000_000L}}, "units": {{units}}, "seed": 7}""",
        });
        Assert.True(outcome.Accepted, outcome.Error);
        return jobId;
    }

    private static async Task<JobView> JobAsync(TestSilo silo, string jobId) => (await silo.Grains.GetGrain<IJobGrain>(jobId).GetAsync())!;

    private static async Task<int> LeasedAsync(TestSilo silo)
    {
        var stats = await Task.WhenAll(Enumerable.Range(0, 8).Select(s => silo.Grains.GetGrain<IWorkQueueGrain>(s).GetStatsAsync()));
        return stats.Sum(s => s.Leased);
    }

    private static async Task<long> CreditedAsync(TestSilo silo, string payout) =>
        (await silo.Grains.GetGrain<IRewardAccountGrain>(payout).GetAsync()).UnitsCredited;

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
