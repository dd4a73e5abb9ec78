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
/// ports: Orleans silo + gateway + Kestrel HTTP API, optionally with the GPU-role workers on the CPU device.
/// </summary>
public sealed class TestSilo : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestSilo(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
        Http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    /// <summary>The API's base address.</summary>
    public Uri BaseAddress { get; }

    /// <summary>An HTTP client for the API.</summary>
    public HttpClient Http { get; }

    /// <summary>The silo's grain factory (same process).</summary>
    public IGrainFactory Grains => _app.Services.GetRequiredService<IGrainFactory>();

    /// <summary>The host's services.</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>Starts a silo. <paramref name="settings"/> are configuration keys such as <c>Scheduler:LeaseDuration</c>.</summary>
    public static async Task<TestSilo> StartAsync(bool workers, IDictionary<string, string?>? settings = null,
        Action<IServiceCollection>? services = null)
    {
        var httpPort = FreePort();
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
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) config[key] = value;

        var app = DePinSilo.Build([], b =>
        {
            b.Configuration.AddInMemoryCollection(config);
            services?.Invoke(b.Services);
        });
        await app.StartAsync();
        return new TestSilo(app, new Uri($"http://127.0.0.1:{httpPort}"));
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
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await _app.StopAsync(cts.Token);
        }
        finally
        {
            await _app.DisposeAsync();
        }
    }
}
