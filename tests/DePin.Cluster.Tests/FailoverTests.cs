using System.Diagnostics;
using DePin.Cluster.Tests.Infrastructure;

namespace DePin.Cluster.Tests;

/// <summary>
/// Fault tests with real silo processes and a real redis-server: a killed silo, a Redis crash, a drained silo and a
/// silo joining mid-run each still yield the correct result with every unit paid exactly once.
/// </summary>
public sealed class FailoverTests(ITestOutputHelper output)
{
    private const int Units = 10_000;
    private const long SamplesPerUnit = 20_000;
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

    [Fact]
    public async Task Kill9_of_a_gpu_silo_mid_run_loses_no_unit_and_pays_each_once()
    {
        var expected = Task.Run(() => ExpectedDigest(11));
        await using var cluster = await LocalCluster.StartAsync(output, ("s0", "api,gpu"), ("s1", "gpu"), ("s2", "gpu"));
        var (jobId, price) = await cluster.SubmitMonteCarloAsync(Units, SamplesPerUnit, 11);
        await cluster.WaitJobAsync(jobId, j => Progress(j, 0.10), "10% progress", JobTimeout);

        var victim = cluster.Silos[1];
        var started = Stopwatch.StartNew();
        victim.Kill();
        output.WriteLine($"killed silo {victim.Name} (pid {victim.Pid}) at >10%");

        await cluster.AssertCompletedExactlyOnceAsync(jobId, price, Units, await expected, JobTimeout);
        output.WriteLine($"completed {started.Elapsed.TotalSeconds:F1} s after the kill");
    }

    [Fact]
    public async Task Redis_crash_and_restart_mid_run_recovers_and_completes()
    {
        var expected = Task.Run(() => ExpectedDigest(12));
        await using var cluster = await LocalCluster.StartAsync(output, ("s0", "api,gpu"), ("s1", "gpu"));
        var (jobId, price) = await cluster.SubmitMonteCarloAsync(Units, SamplesPerUnit, 12);
        await cluster.WaitJobAsync(jobId, j => Progress(j, 0.10), "10% progress", JobTimeout);

        // SIGKILL, 1 s outage, restart on the same port from the fsynced append-only file.
        await cluster.Redis.CrashAndRestartAsync(TimeSpan.FromSeconds(1));
        output.WriteLine("redis restarted");

        await cluster.AssertCompletedExactlyOnceAsync(jobId, price, Units, await expected, JobTimeout);
        Assert.All(cluster.Silos, s => Assert.False(s.HasExited, $"silo {s.Name} exited: {s.Tail()}"));
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
