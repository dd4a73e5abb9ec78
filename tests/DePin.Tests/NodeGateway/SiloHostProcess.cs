using System.Diagnostics;
using System.Net.Http.Headers;
using DePin.Tests.Infrastructure;

namespace DePin.Tests.NodeGateway;

/// <summary>
/// The main command's program as its own process: <c>dotnet DePin.Silo.dll</c> on embedded defaults (what
/// <c>deploy/demo.sh</c> starts), with the API role only, free loopback ports and its bootstrap keys in a temp directory.
/// </summary>
public sealed class SiloHostProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ProcessOutput _output;
    private readonly string _keys;

    private SiloHostProcess(Process process, Uri api, string keys)
    {
        _process = process;
        _keys = keys;
        Api = api;
        _output = new ProcessOutput(process);
    }

    /// <summary>The HTTP API.</summary>
    public Uri Api { get; }

    /// <summary>What the silo printed.</summary>
    public string Output => _output.All;

    /// <summary>An HTTP client with the bootstrap client key.</summary>
    public HttpClient Client { get; private set; } = null!;

    /// <summary>Starts the silo and waits until its API answers and its bootstrap keys exist.</summary>
    public static async Task<SiloHostProcess> StartAsync(IDictionary<string, string> settings)
    {
        var dll = Path.Combine(RepoTools.Root, "src", "DePin.Silo", "bin", RepoTools.Configuration, "net10.0", "DePin.Silo.dll");
        if (!File.Exists(dll)) throw new InvalidOperationException($"{dll} is missing: build the solution");
        var http = TestSilo.FreePort();
        var keys = Directory.CreateTempSubdirectory("depin-silo-keys-").FullName;
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(dll);
        psi.Environment["DEPIN_Silo__Roles"] = "api";
        psi.Environment["DEPIN_Silo__SiloPort"] = TestSilo.FreePort().ToString();
        psi.Environment["DEPIN_Silo__GatewayPort"] = TestSilo.FreePort().ToString();
        psi.Environment["DEPIN_Ledger__EpochPeriod"] = "00:00:00";
        psi.Environment["DEPIN_Auth__KeysDirectory"] = keys;
        psi.Environment["DEPIN_urls"] = $"http://127.0.0.1:{http}";
        foreach (var (key, value) in settings) psi.Environment[key] = value;
        var silo = new SiloHostProcess(Process.Start(psi)!, new Uri($"http://127.0.0.1:{http}"), keys);
        using var probe = new HttpClient { BaseAddress = silo.Api, Timeout = TimeSpan.FromSeconds(2) };
        await Eventually.WaitAsync(async () =>
        {
            if (silo._process.HasExited) throw new InvalidOperationException($"the silo exited ({silo._process.ExitCode}):\n{silo.Output}");
            try
            {
                return (await probe.GetAsync("/health")).IsSuccessStatusCode && File.Exists(Path.Combine(keys, "client.key"));
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, ready => ready, "the silo process to answer /health", TimeSpan.FromSeconds(90));
        silo.Client = new HttpClient { BaseAddress = silo.Api, Timeout = TimeSpan.FromSeconds(30) };
        silo.Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", File.ReadAllText(Path.Combine(keys, "client.key")).Trim());
        return silo;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        Client?.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        Directory.Delete(_keys, recursive: true);
    }
}
