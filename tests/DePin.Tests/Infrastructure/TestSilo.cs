using System.Net;
using System.Net.Sockets;
using DePin.Silo.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace DePin.Tests.Infrastructure;

/// <summary>
/// A real DePin silo (the production host program, embedded defaults) started in this test process on free loopback
/// ports: Orleans silo + gateway + Kestrel HTTP API, optionally with the GPU-role workers on the CPU device. Its
/// bootstrap API keys are written to a temporary directory of its own (<see cref="KeysDirectory"/>).
/// </summary>
public sealed class TestSilo : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestSilo(WebApplication app, Uri baseAddress, string keysDirectory)
    {
        _app = app;
        BaseAddress = baseAddress;
        KeysDirectory = keysDirectory;
        AdminKey = File.ReadAllText(Path.Combine(keysDirectory, "admin.key")).Trim();
        ClientKey = File.ReadAllText(Path.Combine(keysDirectory, "client.key")).Trim();
        Http = CreateHttp(AdminKey);
        ClientHttp = CreateHttp(ClientKey);
    }

    /// <summary>The API's base address.</summary>
    public Uri BaseAddress { get; }

    /// <summary>Where the silo wrote its bootstrap keys (<c>Auth:KeysDirectory</c>; deleted on dispose).</summary>
    public string KeysDirectory { get; }

    /// <summary>The bootstrap admin key (<c>admin.key</c>).</summary>
    public string AdminKey { get; }

    /// <summary>The bootstrap client key (<c>client.key</c>).</summary>
    public string ClientKey { get; }

    /// <summary>An HTTP client for the API, sending the admin key (may do everything).</summary>
    public HttpClient Http { get; }

    /// <summary>Same as <see cref="Http"/>: the admin key.</summary>
    public HttpClient AdminHttp => Http;

    /// <summary>An HTTP client for the API, sending the bootstrap client key.</summary>
    public HttpClient ClientHttp { get; }

    /// <summary>A new HTTP client for the API sending <paramref name="apiKey"/> as a bearer token (none when null). The caller disposes it.</summary>
    public HttpClient CreateHttp(string? apiKey)
    {
        var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (apiKey is not null) http.DefaultRequestHeaders.Authorization = new("Bearer", apiKey);
        return http;
    }

    /// <summary>The silo's grain factory (same process).</summary>
    public IGrainFactory Grains => _app.Services.GetRequiredService<IGrainFactory>();

    /// <summary>The host's services.</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>Starts a silo. <paramref name="settings"/> are configuration keys such as <c>Scheduler:LeaseDuration</c>.</summary>
    public static async Task<TestSilo> StartAsync(bool workers, IDictionary<string, string?>? settings = null) =>
        await StartAsync(workers, settings, configure: null);

    /// <summary>Starts a silo; <paramref name="configure"/> may add to the host (e.g. a logging provider) after the settings.</summary>
    /// <remarks>
    /// A free port is free only until someone binds it: when another process (or a silo starting in parallel) takes one of
    /// ours first, the start is retried on new ports.
    /// </remarks>
    public static async Task<TestSilo> StartAsync(bool workers, IDictionary<string, string?>? settings, Action<WebApplicationBuilder>? configure)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await StartOnceAsync(workers, settings, configure);
            }
            catch (Exception ex) when (attempt < 3 && IsAddressInUse(ex))
            {
            }
        }
    }

    private static bool IsAddressInUse(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } || ex.GetType().Name == "AddressInUseException") return true;
            if (ex is AggregateException aggregate && aggregate.InnerExceptions.Any(IsAddressInUse)) return true;
        }
        return false;
    }

    private static async Task<TestSilo> StartOnceAsync(bool workers, IDictionary<string, string?>? settings, Action<WebApplicationBuilder>? configure)
    {
        var httpPort = FreePort();
        var keysDirectory = Path.Combine(Path.GetTempPath(), "depin-test-keys-" + Guid.NewGuid().ToString("N")[..12]);
        var config = new Dictionary<string, string?>
        {
            ["Silo:Roles"] = workers ? "api,gpu" : "api",
            ["Silo:SiloPort"] = FreePort().ToString(),
            ["Silo:GatewayPort"] = FreePort().ToString(),
            ["Silo:ClusterId"] = "test-" + Guid.NewGuid().ToString("N")[..8],
            ["Ledger:EpochPeriod"] = "00:00:00",
            ["Worker:ProbeOnStart"] = "false",
            ["Worker:NodeName"] = "test-" + httpPort,
            ["Worker:HeartbeatInterval"] = "00:00:01",
            ["urls"] = $"http://127.0.0.1:{httpPort}",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Auth:KeysDirectory"] = keysDirectory,
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) config[key] = value;

        var app = DePinSilo.Build([], b =>
        {
            b.Configuration.AddInMemoryCollection(config);
            configure?.Invoke(b);
        });
        try
        {
            await app.StartAsync();
        }
        catch
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await app.StopAsync(cts.Token);
            }
            finally
            {
                await app.DisposeAsync();
            }
            throw;
        }
        return new TestSilo(app, new Uri($"http://127.0.0.1:{httpPort}"), keysDirectory);
    }

    /// <summary>A TCP port nobody listens on right now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        ClientHttp.Dispose();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await _app.StopAsync(cts.Token);
        }
        finally
        {
            await _app.DisposeAsync();
            try
            {
                Directory.Delete(KeysDirectory, recursive: true);
            }
            catch (IOException)
            {
                // A leftover temporary directory is harmless.
            }
        }
    }
}
