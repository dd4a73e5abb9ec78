using System.Net;
using DePin.Abstractions.Scheduling;
using DePin.Silo.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Connections.Security;
using Orleans.Hosting;

namespace DePin.Cluster.Tests.Infrastructure;

/// <summary>
/// An Orleans client of the trusted core (the cluster certificate, mutual TLS) on every silo gateway of a
/// <see cref="LocalCluster"/>: asks Orleans' management grain where a grain is activated, so a fault test kills the silo
/// that really holds the queue shards, the ledger or a job, and reads queue statistics.
/// </summary>
public sealed class ClusterAdmin : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly LocalCluster _cluster;

    private ClusterAdmin(IHost host, LocalCluster cluster)
    {
        _host = host;
        _cluster = cluster;
    }

    /// <summary>The client.</summary>
    public IClusterClient Client => _host.Services.GetRequiredService<IClusterClient>();

    /// <summary>
    /// Connects through the gateways of the cluster's silos as they are now (a restarted silo keeps its ports, so the
    /// list stays valid across kills and restarts).
    /// </summary>
    public static async Task<ClusterAdmin> ConnectAsync(LocalCluster cluster)
    {
        var certificate = ClusterCertificate.Shared.Certificate;
        var gateways = cluster.Live.Select(s => new IPEndPoint(IPAddress.Loopback, s.GatewayPort)).ToArray();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleansClient(client =>
        {
            client.UseStaticClustering(gateways);
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = cluster.ClusterId;
                o.ServiceId = cluster.ClusterId;
            });
            client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(10));
            client.UseTls(certificate, o =>
            {
                o.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
                o.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
                o.RemoteCertificateValidation = new ClusterPeerValidator(certificate, []).Validate;
            });
        });
        var host = builder.Build();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await host.StartAsync(cts.Token);
        return new ClusterAdmin(host, cluster);
    }

    /// <summary>
    /// The live silo process on which <paramref name="grain"/> is activated (directory lookup through
    /// <c>IManagementGrain.GetActivationAddress</c>), or null when it is not activated anywhere.
    /// Retries while the cluster fails over.
    /// </summary>
    public async Task<SiloProcess?> HostOfAsync(IAddressable grain, TimeSpan timeout)
    {
        var address = await RetryAsync(async () => await Client.GetGrain<IManagementGrain>(0).GetActivationAddress(grain), timeout);
        return address is null ? null : _cluster.Live.FirstOrDefault(s => s.SiloPort == address.Endpoint.Port);
    }

    /// <summary>The live silo that hosts the most queue shards (all shards are activated first), and the count per silo.</summary>
    public async Task<(SiloProcess Holder, string PerSilo)> QueueShardHolderAsync(int shards, TimeSpan timeout)
    {
        await QueueStatsAsync(shards, timeout);
        var hosts = new List<SiloProcess>();
        for (var shard = 0; shard < shards; shard++)
        {
            if (await HostOfAsync(Client.GetGrain<IWorkQueueGrain>(shard), timeout) is { } host) hosts.Add(host);
        }
        if (hosts.Count == 0) throw new InvalidOperationException("no queue shard is activated on a live silo");
        var perSilo = string.Join(", ", hosts.GroupBy(h => h.Name).Select(g => $"{g.Key}={g.Count()}"));
        return (hosts.GroupBy(h => h.Pid).OrderByDescending(g => g.Count()).First().First(), perSilo);
    }

    /// <summary>Units leased right now over all shards; waits (up to <paramref name="timeout"/>) until there are some.</summary>
    public async Task<(int Leased, int Ready)> WaitLeasedAsync(int shards, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var stats = await QueueStatsAsync(shards, timeout);
            var leased = stats.Sum(s => s.Leased);
            if (leased > 0 || DateTime.UtcNow > deadline) return (leased, stats.Sum(s => s.Ready));
            await Task.Delay(50);
        }
    }

    /// <summary>Each queue shard's statistics (activates shards that are not active).</summary>
    public Task<QueueStats[]> QueueStatsAsync(int shards, TimeSpan timeout) =>
        RetryAsync(() => Task.WhenAll(Enumerable.Range(0, shards).Select(i => Client.GetGrain<IWorkQueueGrain>(i).GetStatsAsync())), timeout);

    /// <summary>Runs <paramref name="call"/> until it succeeds (grain calls fail while a silo is being declared dead).</summary>
    public static async Task<T> RetryAsync<T>(Func<Task<T>> call, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                return await call();
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try { await _host.StopAsync(stop.Token); } catch (Exception) { /* the cluster may be gone already */ }
        _host.Dispose();
    }
}
