using DePin.Abstractions.Scheduling;
using System.Text;
using System.Text.Json;
using DePin.Compute.Catalog;
using DePin.Compute.Devices;
using DePin.Grains.Scheduling;

namespace DePin.Cluster.Tests.Infrastructure;

/// <summary>
/// One test's cluster: its own redis-server (with a password), silo processes (mutual TLS with
/// <see cref="ClusterCertificate.Shared"/>) and cluster/service id.
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    private readonly List<SiloProcess> _silos = [];
    private readonly ITestOutputHelper _output;

    private LocalCluster(RedisServer redis, ITestOutputHelper output)
    {
        Redis = redis;
        _output = output;
    }

    /// <summary>The Redis server.</summary>
    public RedisServer Redis { get; }

    /// <summary>Cluster and service id (unique per test).</summary>
    public string ClusterId { get; } = "ct-" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>Every silo started, in order (also dead ones).</summary>
    public IReadOnlyList<SiloProcess> Silos => _silos;

    /// <summary>Settings given to every silo: fast liveness for tests, small batches so work spreads over silos.</summary>
    public static Dictionary<string, string> DefaultSettings => new()
    {
        ["Worker:BatchSize"] = "64",
    };

    /// <summary>Starts Redis and the silos (name, roles), concurrently.</summary>
    public static async Task<LocalCluster> StartAsync(ITestOutputHelper output, params (string Name, string Roles)[] silos)
    {
        var cluster = new LocalCluster(await RedisServer.StartAsync(), output);
        // The first silo creates the membership table; the others join it.
        await cluster.AddSiloAsync(silos[0].Name, silos[0].Roles);
        await Task.WhenAll(silos.Skip(1).Select(s => cluster.AddSiloAsync(s.Name, s.Roles)));
        return cluster;
    }

    /// <summary>Starts only the Redis server; add silos with <see cref="AddSiloAsync"/>.</summary>
    public static async Task<LocalCluster> StartRedisOnlyAsync(ITestOutputHelper output) =>
        new(await RedisServer.StartAsync(), output);

    /// <summary>
    /// Starts one more silo and waits until it is healthy. <paramref name="settings"/> are added to
    /// <see cref="DefaultSettings"/>; <paramref name="operatorAddress"/> replaces the derived payout address.
    /// </summary>
    public async Task<SiloProcess> AddSiloAsync(string name, string roles, IDictionary<string, string>? settings = null, string? operatorAddress = null)
    {
        var all = DefaultSettings;
        all["Silo:RedisPassword"] = Redis.Password;
        foreach (var (k, v) in settings ?? new Dictionary<string, string>()) all[k] = v;
        var silo = await SiloProcess.StartAsync(name, roles, Redis.Endpoint, ClusterId, all, operatorAddress: operatorAddress);
        lock (_silos) _silos.Add(silo);
        return silo;
    }

    /// <summary>Starts a killed silo again on its own ports (<see cref="SiloProcess.RestartAsync"/>) and waits until it is healthy.</summary>
    /// <remarks>
    /// Like an orchestrator, it starts the silo again (up to 3 tries) when it exits while starting: with storage faults
    /// injected, a start-up read (the ledger's activation) can fail, and that ends the process.
    /// </remarks>
    public async Task<SiloProcess> RestartAsync(SiloProcess dead)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var silo = await dead.RestartAsync();
                lock (_silos) _silos.Add(silo);
                return silo;
            }
            catch (InvalidOperationException ex) when (attempt < 3 && ex.Message.Contains("while starting", StringComparison.Ordinal))
            {
                _output.WriteLine($"silo {dead.Name} crashed while starting (try {attempt}), starting it again: {ex.Message.Split('\n').FirstOrDefault(l => l.Contains("Exception", StringComparison.Ordinal))}");
            }
        }
    }

    /// <summary>The live silos.</summary>
    public IReadOnlyList<SiloProcess> Live
    {
        get
        {
            lock (_silos) return _silos.Where(s => !s.HasExited).ToList();
        }
    }

    /// <summary>Every operator address of a gpu silo (a restarted silo keeps its address).</summary>
    public IReadOnlyList<string> OperatorAddresses
    {
        get
        {
            lock (_silos) return _silos.Where(s => s.Roles.Contains("gpu")).Select(s => s.OperatorAddress).Distinct().ToList();
        }
    }

    /// <summary>The API silo used by the test (the first one with the api role).</summary>
    public SiloProcess Api => _silos.First(s => s.Roles.Contains("api") && !s.HasExited);

    /// <summary>
    /// Submits a deterministic montecarlo-pi job; returns its id and price. A server error (a storage fault injected
    /// while the job was being created) is retried under the same Idempotency-Key, so a retry never makes a second job.
    /// </summary>
    public async Task<(string JobId, long Price)> SubmitMonteCarloAsync(int units, long samplesPerUnit, long seed)
    {
        var body = JsonSerializer.Serialize(new { kernel = "montecarlo-pi", parameters = new { units, samples = units * samplesPerUnit, seed } });
        var key = Guid.NewGuid().ToString("N");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/jobs") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.Add("Idempotency-Key", key);
            using var r = await Api.Http.SendAsync(request);
            var text = await r.Content.ReadAsStringAsync();
            if ((int)r.StatusCode >= 500 && DateTime.UtcNow < deadline)
            {
                _output.WriteLine($"submit: {(int)r.StatusCode}, retrying with the same Idempotency-Key");
                await Task.Delay(200);
                continue;
            }
            Assert.True(r.IsSuccessStatusCode, $"submit failed: {(int)r.StatusCode} {text}");
            using var doc = JsonDocument.Parse(text);
            return (doc.RootElement.GetProperty("jobId").GetString()!, doc.RootElement.GetProperty("priceMicroCredits").GetInt64());
        }
    }

    /// <summary>Polls the job until <paramref name="done"/> holds (errors while the cluster fails over are retried).</summary>
    public async Task<JsonElement> WaitJobAsync(string jobId, Func<JsonElement, bool> done, string what, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        JsonElement? last = null;
        Exception? lastError = null;
        var delay = 20;
        while (true)
        {
            try
            {
                last = await Api.GetJsonAsync($"/jobs/{jobId}");
                if (last is { } job)
                {
                    var status = job.GetProperty("status").GetString();
                    if (status is "Failed" or "Cancelled") Assert.Fail($"job {jobId} ended {status}: {job}");
                    if (done(job)) return job;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                lastError = ex;
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"timed out waiting for {what}; last job view: {last}; last error: {lastError?.Message}\n{Logs()}");
            await Task.Delay(delay);
            delay = Math.Min(delay * 2, 250);
        }
    }

    /// <summary>Waits for Completed and checks the result digest and exactly-once payment.</summary>
    public async Task AssertCompletedExactlyOnceAsync(string jobId, long price, int units, string expectedDigest, TimeSpan timeout)
    {
        var job = await WaitJobAsync(jobId, j => j.GetProperty("status").GetString() == "Completed", "job completion", timeout);
        Assert.Equal(expectedDigest, job.GetProperty("resultDigest").GetString());
        Assert.Equal(units, job.GetProperty("unitsCompleted").GetInt32());

        // Credits are delivered right after the outputs (outbox); wait for them all, and never more than once.
        var addresses = OperatorAddresses;
        (long Credits, long Units) totals = default;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            long credits = 0, credited = 0;
            foreach (var address in addresses)
            {
                if (await Api.GetJsonAsync($"/accounts/{address}") is { } account)
                {
                    credits += account.GetProperty("cumulativeMicroCredits").GetInt64();
                    credited += account.GetProperty("unitsCredited").GetInt64();
                }
            }
            totals = (credits, credited);
            Assert.True(credited <= units, $"{credited} units credited for a job of {units}: a unit was paid twice");
            Assert.True(credits <= price, $"{credits} micro-credits paid for a job priced {price}: a unit was paid twice");
            if (credited == units) break;
            if (DateTime.UtcNow > deadline) break;
            await Task.Delay(100);
        }
        _output.WriteLine($"job {jobId}: {totals.Units} units credited, {totals.Credits} micro-credits over {addresses.Count} operators (price {price})");
        Assert.Equal(units, totals.Units);
        Assert.Equal(price, totals.Credits);
    }

    /// <summary>Digest of the same job's result computed in this process on the vectorised CPU device.</summary>
    public static string ExpectedMonteCarloDigest(int units, long samplesPerUnit, long seed)
    {
        var kernel = KernelCatalog.Default.Get("montecarlo-pi");
        using var doc = JsonDocument.Parse(JsonSerializer.Serialize(new { units, samples = units * samplesPerUnit, seed }));
        var plan = kernel.Plan(doc.RootElement, KernelLimits.Default);
        using var device = ComputeDevice.CreateVectorCpu();
        var outputs = new byte[plan.UnitCount][];
        for (var i = 0; i < outputs.Length; i++)
            outputs[i] = kernel.Execute(device, new KernelUnit(plan.CanonicalParameters, i, plan.UnitCount, plan.UnitInputs[i]));
        return ResultDigest.Of(kernel.Assemble(plan.CanonicalParameters, outputs).Data);
    }

    /// <summary>Per-node verified units (GET /nodes).</summary>
    public async Task<Dictionary<string, long>> NodesAsync()
    {
        var nodes = await Api.GetJsonAsync("/nodes");
        return nodes!.Value.EnumerateArray().ToDictionary(n => n.GetProperty("nodeId").GetString()!, n => n.GetProperty("unitsVerified").GetInt64());
    }

    private string Logs() => string.Join("\n", _silos.Select(s => $"--- silo {s.Name} (pid {s.Pid}{(s.HasExited ? $", exited {s.ExitCode}" : "")}):\n{s.Tail(15)}"));

    /// <summary>Prints each silo's last lines (diagnostics on failure) and writes every silo's kept output to a temp directory.</summary>
    public void DumpLogs()
    {
        _output.WriteLine(Logs());
        var dir = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "depin-cluster-logs", ClusterId)).FullName;
        for (var i = 0; i < _silos.Count; i++) File.WriteAllText(Path.Combine(dir, $"{i:00}-{_silos[i].Name}-{_silos[i].Pid}.log"), _silos[i].Log);
        _output.WriteLine($"silo logs: {dir}");
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_silos.Select(s => s.DisposeAsync().AsTask()));
        await Redis.DisposeAsync();
    }
}
