using DePin.Client;
using DePin.Tests.Infrastructure;

namespace DePin.Cli.Tests;

/// <summary>
/// One real silo (HTTP API, an in-process CPU worker, bootstrap keys on disk) shared by a test class; the CLI and the client
/// talk to it over HTTP exactly as they would to a deployed API.
/// </summary>
public class SiloFixture : IAsyncLifetime
{
    /// <summary>The silo.</summary>
    public TestSilo Silo { get; private set; } = null!;

    /// <summary>The embedded worker's node (registered and online once the fixture is ready).</summary>
    public NodeInfo Node { get; private set; } = null!;

    /// <summary>Silo settings on top of <see cref="TestSilo"/>'s.</summary>
    protected virtual IDictionary<string, string?> Settings => new Dictionary<string, string?>();

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        Silo = await TestSilo.StartAsync(workers: true, Settings);
        using var client = Client();
        Node = await Eventually.WaitAsync(async () => (await client.ListNodesAsync()).FirstOrDefault(n => n.Online), n => n is not null, "the worker's node")
            ?? throw new InvalidOperationException("no node");
    }

    /// <inheritdoc />
    public async Task DisposeAsync() => await Silo.DisposeAsync();

    /// <summary>A client sending the bootstrap client key (the admin key when <paramref name="admin"/>).</summary>
    public DePinClient Client(bool admin = false) => new(Silo.BaseAddress, admin ? Silo.AdminKey : Silo.ClientKey);

    /// <summary>A client sending no key.</summary>
    public DePinClient Anonymous() => new(Silo.BaseAddress);

    /// <summary>Runs the CLI against the silo with its bootstrap keys as the local keys (client.key; admin.key for admin commands).</summary>
    public Task<Outcome> RunAsync(params string[] args) => CliRun.RunAsync(Silo.BaseAddress, null, Silo.KeysDirectory, args);

    /// <summary>Runs the CLI against the silo with no API key at all.</summary>
    public Task<Outcome> RunWithoutKeyAsync(params string[] args) => CliRun.RunAsync(Silo.BaseAddress, null, null, args);

    /// <summary>Submits a job with the client key and waits until it is finished.</summary>
    public async Task<JobInfo> RunJobAsync(string kernel, object parameters)
    {
        using var client = Client();
        var job = await client.SubmitJobAsync(kernel, parameters);
        return await client.WaitForCompletionAsync(job.JobId, pollInterval: TimeSpan.FromMilliseconds(20), timeout: TimeSpan.FromSeconds(60));
    }

    /// <summary>Submits a job that no node here can run (it needs a CUDA device), so it stays queued until cancelled.</summary>
    public async Task<JobInfo> SubmitUnrunnableJobAsync()
    {
        using var client = Client();
        return await client.SubmitJobAsync("montecarlo-pi", new { samples = 1000, units = 2 },
            new SubmitJobOptions { Requirements = new JobRequirements { DeviceKinds = ["Cuda"] } });
    }

    /// <summary>Waits until the node's operator account holds at least <paramref name="microCredits"/>.</summary>
    public async Task<AccountInfo> WaitForCreditsAsync(long microCredits)
    {
        using var client = Client();
        return await Eventually.WaitAsync(async () =>
        {
            try
            {
                return await client.GetAccountAsync(Node.OperatorAddress);
            }
            catch (DePinApiException e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
                return null;
            }
        }, a => a is not null && a.CumulativeMicroCredits >= microCredits, "the operator's credits") ?? throw new InvalidOperationException();
    }
}
