using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using DePin.Abstractions.Jobs;
using DePin.Abstractions.Scheduling;
using DePin.Silo.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

/// <summary>
/// Many small jobs, as a client app sends them: one-unit montecarlo-pi jobs submitted through the HTTP API by 16
/// concurrent clients, on the embedded default (one silo with its CPU worker), in phases of growing size run one after
/// the other on the same silo (so later phases meet everything earlier ones left behind). Prints jobs/s end to end
/// (first submit → last job Completed) per phase, next to an in-process baseline of empty grain calls.
/// </summary>
internal static class SmallJobsBench
{
    public static async Task RunAsync(int[] phases, int clients, int warmup)
    {
        var keys = Path.Combine(Path.GetTempPath(), "depin-bench-keys-" + Guid.NewGuid().ToString("N")[..8]);
        var port = FreePort();
        var app = DePinSilo.Build([], b =>
        {
            b.Configuration["Silo:SiloPort"] = FreePort().ToString();
            b.Configuration["Silo:GatewayPort"] = FreePort().ToString();
            b.Configuration["urls"] = $"http://127.0.0.1:{port}";
            b.Configuration["Worker:ProbeOnStart"] = "false";
            b.Configuration["Ledger:EpochPeriod"] = "00:00:00";
            b.Configuration["Logging:LogLevel:Default"] = "Warning";
            b.Configuration["Auth:KeysDirectory"] = keys;
            // The client app is trusted to be this busy: no rate limit or quota in the way of the measurement.
            b.Configuration["Api:SubmitsPerSecond"] = "1000000";
            b.Configuration["Api:PublicRequestsPerSecond"] = "1000000";
            b.Configuration["Api:Quota:MaxRunningJobs"] = "1000000";
        });
        await app.StartAsync();
        try
        {
            var grains = app.Services.GetRequiredService<IGrainFactory>();
            var baseline = await BaselineAsync(grains);
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients })
            {
                BaseAddress = new Uri($"http://127.0.0.1:{port}"),
            };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", File.ReadAllText(Path.Combine(keys, "client.key")).Trim());

            Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}; load before: {File.ReadAllText("/proc/loadavg").Trim()}");
            Console.WriteLine($"config: one-unit montecarlo-pi jobs over HTTP, {clients} concurrent clients, {warmup:N0} warm-up jobs first, 1 silo (embedded default, in-memory storage), vectorised CPU worker");
            Console.WriteLine("| phase (jobs) | accepted/s | completed end to end, jobs/s | ÷ empty grain calls/s |");
            Console.WriteLine("|---|---|---|---|");
            var seed = 0;
            // A warm-up phase (not printed) so every phase meets JIT-optimised code, not the first minutes of tiering.
            foreach (var (count, printed) in new[] { (warmup, false) }.Where(w => w.Item1 > 0).Concat(phases.Select(p => (p, true))))
            {
                var ids = new string[count];
                var next = -1;
                var sw = Stopwatch.StartNew();
                await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
                {
                    int i;
                    while ((i = Interlocked.Increment(ref next)) < count)
                    {
                        var body = new { kernel = "montecarlo-pi", parameters = new { samples = 1000, units = 1, seed = Interlocked.Increment(ref seed) } };
                        using var response = await http.PostAsJsonAsync("/jobs", body);
                        if (response.StatusCode != HttpStatusCode.Accepted)
                            throw new InvalidOperationException($"submit: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                        using var doc = JsonDocument.Parse(await response.Content.ReadAsStreamAsync());
                        ids[i] = doc.RootElement.GetProperty("jobId").GetString()!;
                    }
                }));
                var accepted = sw.Elapsed;
                // Completion is read in process (not part of what is measured per job): oldest first, each until done.
                foreach (var chunk in ids.Chunk(256))
                {
                    foreach (var id in chunk)
                    {
                        while (true)
                        {
                            var view = await grains.GetGrain<IJobGrain>(id).GetAsync();
                            if (view!.Status.IsTerminal())
                            {
                                if (view.Status != JobStatus.Completed) throw new InvalidOperationException($"job {id} {view.Status}: {view.Error}");
                                break;
                            }
                            await Task.Delay(2);
                        }
                    }
                }
                var elapsed = sw.Elapsed;
                var perSecond = count / elapsed.TotalSeconds;
                if (printed) Console.WriteLine($"| {count:N0} | {count / accepted.TotalSeconds:N0} | {perSecond:N0} | {perSecond / baseline:F4} |");
                else Console.WriteLine($"(warm-up: {count:N0} jobs at {perSecond:N0} jobs/s, not counted)");
            }
            Console.WriteLine($"baseline: {baseline:N0} empty grain calls/s (same process, 8 callers); load after: {File.ReadAllText("/proc/loadavg").Trim()}");
            Console.WriteLine($"silo memory at the end: GC heap {GC.GetTotalMemory(false) / 1048576.0:N0} MiB, working set {Environment.WorkingSet / 1048576.0:N0} MiB");
        }
        finally
        {
            await app.StopAsync();
            Directory.Delete(keys, recursive: true);
        }
    }

    private static async Task<double> BaselineAsync(IGrainFactory grains)
    {
        var probe = grains.GetGrain<IWorkQueueGrain>(0);
        await probe.GetStatsAsync();
        const int calls = 100_000;
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            for (var i = 0; i < calls / 8; i++) await probe.GetStatsAsync();
        }));
        return calls / sw.Elapsed.TotalSeconds;
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
