using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace DePin.Cluster.Tests.Infrastructure;

/// <summary>
/// A real silo process: <c>dotnet DePin.Silo.dll</c> (the build of the same configuration as this test assembly) with
/// configuration through DEPIN_-prefixed environment variables, its own loopback ports and operator address.
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _log = new();
    private string _redis = "";
    private string _clusterId = "";
    private Dictionary<string, string>? _settings;

    private SiloProcess(Process process, int httpPort, int siloPort, int gatewayPort, string name, string operatorAddress, string roles)
    {
        _process = process;
        HttpPort = httpPort;
        SiloPort = siloPort;
        GatewayPort = gatewayPort;
        Name = name;
        OperatorAddress = operatorAddress;
        Roles = roles;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(30) };
        Http.DefaultRequestHeaders.Authorization = new("Bearer", AdminKey);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) Append(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Append(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>The admin API key every silo of this test run registers (<c>Auth:AdminKey</c>); <see cref="Http"/> sends it.</summary>
    public static readonly string AdminKey = "dpk_" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8)) + "_"
        + System.Buffers.Text.Base64Url.EncodeToString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    /// <summary>Worker node name prefix (node id = <c>{Name}/cpu0</c>).</summary>
    public string Name { get; }

    /// <summary>This silo's workers' payout address.</summary>
    public string OperatorAddress { get; }

    /// <summary>Roles.</summary>
    public string Roles { get; }

    /// <summary>HTTP port.</summary>
    public int HttpPort { get; }

    /// <summary>Orleans silo-to-silo port.</summary>
    public int SiloPort { get; }

    /// <summary>Orleans client gateway port.</summary>
    public int GatewayPort { get; }

    /// <summary>Client of this silo's HTTP endpoint (the job API when it has the api role).</summary>
    public HttpClient Http { get; }

    /// <summary>Process id.</summary>
    public int Pid => _process.Id;

    /// <summary>True once the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Exit code (after exit).</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>What the process printed.</summary>
    public string Log => string.Join('\n', _log);

    /// <summary>Path of the silo program next to this build.</summary>
    public static string SiloDll
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "DePin.Orleans.sln"))) dir = dir.Parent;
            if (dir is null) throw new InvalidOperationException("cannot find the repository root (DePin.Orleans.sln) above " + AppContext.BaseDirectory);
#if DEBUG
            const string configuration = "Debug";
#else
            const string configuration = "Release";
#endif
            var dll = Path.Combine(dir.FullName, "src", "DePin.Silo", "bin", configuration, "net10.0", "DePin.Silo.dll");
            if (!File.Exists(dll)) throw new InvalidOperationException($"{dll} is missing: build tests/DePin.Cluster.Tests (it builds the silo)");
            return dll;
        }
    }

    /// <summary>
    /// Starts a silo and waits for GET /health (unless <paramref name="waitHealthy"/> is false). The operator address
    /// defaults to one derived from the cluster id and name. Silo and gateway connections use mutual TLS with
    /// <see cref="ClusterCertificate.Shared"/> (what ships) unless <paramref name="settings"/> say otherwise.
    /// </summary>
    public static Task<SiloProcess> StartAsync(string name, string roles, string redis, string clusterId,
        IDictionary<string, string>? settings = null, bool waitHealthy = true, string? operatorAddress = null) =>
        StartAsync(name, roles, redis, clusterId, settings, waitHealthy, operatorAddress,
            (RedisServer.FreePort(), RedisServer.FreePort(), RedisServer.FreePort()));

    /// <summary>
    /// Starts this silo again after it exited (kill -9), as a restarted pod would: same name, roles, settings,
    /// operator address and ports (on the same silo endpoint Orleans declares the killed one dead at once).
    /// </summary>
    public Task<SiloProcess> RestartAsync()
    {
        if (!HasExited) throw new InvalidOperationException($"silo {Name} is still running");
        return StartAsync(Name, Roles, _redis, _clusterId, _settings, waitHealthy: true, OperatorAddress, (HttpPort, SiloPort, GatewayPort));
    }

    private static async Task<SiloProcess> StartAsync(string name, string roles, string redis, string clusterId,
        IDictionary<string, string>? settings, bool waitHealthy, string? operatorAddress, (int Http, int Silo, int Gateway) ports)
    {
        var httpPort = ports.Http;
        operatorAddress ??= "0x" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(clusterId + name)))[..40];
        var env = new Dictionary<string, string>
        {
            ["DEPIN_Silo__Redis"] = redis,
            ["DEPIN_Silo__Roles"] = roles,
            ["DEPIN_Silo__ClusterId"] = clusterId,
            ["DEPIN_Silo__ServiceId"] = clusterId,
            ["DEPIN_Silo__SiloPort"] = ports.Silo.ToString(),
            ["DEPIN_Silo__GatewayPort"] = ports.Gateway.ToString(),
            ["DEPIN_Worker__NodeName"] = name,
            ["DEPIN_Worker__OperatorAddress"] = operatorAddress,
            ["DEPIN_Worker__ProbeOnStart"] = "false",
            ["DEPIN_Ledger__EpochPeriod"] = "00:00:00",
            ["DEPIN_urls"] = $"http://127.0.0.1:{httpPort}",
            ["DEPIN_Logging__LogLevel__Default"] = "Warning",
            ["DEPIN_Logging__LogLevel__DePin"] = "Information",
            ["DEPIN_Logging__Console__FormatterName"] = "simple",
            ["DEPIN_Auth__AdminKey"] = AdminKey,
            ["DEPIN_Auth__BootstrapKeys"] = "false",
            // Test silos run in the Testing environment: the only one in which Silo:FaultInjection may be on.
            ["DOTNET_ENVIRONMENT"] = "Testing",
            ["DOTNET_gcServer"] = "0",
            ["DOTNET_TieredPGO"] = "0",
        };
        foreach (var (k, v) in ClusterCertificate.Shared.SiloSettings) env["DEPIN_" + k.Replace(":", "__")] = v;
        // Settings are configuration keys (DEPIN_-prefixed here), except DOTNET_* host variables, passed as they are.
        foreach (var (k, v) in settings ?? new Dictionary<string, string>())
            env[k.StartsWith("DOTNET_", StringComparison.Ordinal) ? k : "DEPIN_" + k.Replace(":", "__")] = v;

        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(SiloDll);
        foreach (var (k, v) in env) psi.Environment[k] = v;
        int Port(string key) => int.Parse(env[key], System.Globalization.CultureInfo.InvariantCulture);
        var silo = new SiloProcess(Process.Start(psi)!, httpPort, Port("DEPIN_Silo__SiloPort"), Port("DEPIN_Silo__GatewayPort"), name, operatorAddress, roles)
        {
            _redis = redis,
            _clusterId = clusterId,
            _settings = settings is null ? null : new Dictionary<string, string>(settings),
        };
        if (waitHealthy) await silo.WaitHealthyAsync(TimeSpan.FromSeconds(60));
        return silo;
    }

    /// <summary>Polls GET /health until it answers Healthy.</summary>
    public async Task WaitHealthyAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (_process.HasExited) throw new InvalidOperationException($"silo {Name} exited with {_process.ExitCode} while starting:\n{Tail()}");
            try
            {
                using var r = await Http.GetAsync("/health");
                if (r.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"silo {Name} not healthy after {timeout}:\n{Tail()}");
            await Task.Delay(100);
        }
    }

    /// <summary>kill -9.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    /// <summary>Sends SIGTERM (what an orchestrator sends before stopping a container).</summary>
    public void Terminate()
    {
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", Pid.ToString() }, UseShellExecute = false })!;
        kill.WaitForExit();
    }

    /// <summary>Waits for the process to exit; returns false on timeout.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>GETs JSON, or null on 404.</summary>
    public async Task<JsonElement?> GetJsonAsync(string path)
    {
        using var r = await Http.GetAsync(path);
        if (r.StatusCode == System.Net.HttpStatusCode.NotFound) return null;
        r.EnsureSuccessStatusCode();
        return await r.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>The last lines of output.</summary>
    public string Tail(int lines = 40) => string.Join('\n', _log.TakeLast(lines));

    private void Append(string line)
    {
        _log.Enqueue(line);
        while (_log.Count > 2000) _log.TryDequeue(out _);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!_process.HasExited)
        {
            Terminate();
            if (!await WaitForExitAsync(TimeSpan.FromSeconds(15))) Kill();
        }
        _process.Dispose();
    }
}
