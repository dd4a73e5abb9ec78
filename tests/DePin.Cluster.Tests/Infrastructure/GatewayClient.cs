using System.Net;
using System.Security.Cryptography.X509Certificates;
using DePin.Abstractions.Rewards;
using DePin.Silo.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Connections.Security;
using Orleans.Hosting;

namespace DePin.Cluster.Tests.Infrastructure;

/// <summary>How an Orleans client in the test process talks to a silo's gateway.</summary>
public enum GatewayTls
{
    /// <summary>Plain TCP, as an outsider with a stock Orleans client would.</summary>
    None,

    /// <summary>TLS, accepting any server certificate, but presenting no certificate of its own.</summary>
    NoClientCertificate,

    /// <summary>TLS, presenting the given certificate and accepting any server certificate (an outsider's own certificate).</summary>
    Certificate,

    /// <summary>TLS as a client of the trusted core: presents the given certificate and accepts only a silo that proves it holds the same one.</summary>
    ClusterMember,
}

/// <summary>
/// An Orleans client (static clustering on one silo's gateway) that tries one harmless grain call
/// (<see cref="IRewardAccountGrain.GetAsync"/>; an outsider could as well call <c>CreditAsync</c>).
/// </summary>
public static class GatewayClient
{
    /// <summary>
    /// Connects and calls a grain within <paramref name="bound"/>. Returns null when the call succeeded, otherwise what
    /// failed (connect refused, grain call failed, or nothing within the bound).
    /// </summary>
    public static async Task<string?> TryCallAsync(SiloProcess silo, string clusterId, GatewayTls tls, X509Certificate2? certificate, TimeSpan bound)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleansClient(client =>
        {
            client.UseStaticClustering(new IPEndPoint(IPAddress.Loopback, silo.GatewayPort));
            // One attempt: a refused connection surfaces as the start-up exception instead of being retried.
            client.UseConnectionRetryFilter((_, _) => Task.FromResult(false));
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = clusterId;
                o.ServiceId = clusterId;
            });
            switch (tls)
            {
                case GatewayTls.NoClientCertificate:
                    client.UseTls(o =>
                    {
                        o.ClientCertificateMode = RemoteCertificateMode.AllowCertificate;
                        o.AllowAnyRemoteCertificate();
                        o.HandshakeTimeout = TimeSpan.FromSeconds(5);
                    });
                    break;
                case GatewayTls.Certificate or GatewayTls.ClusterMember:
                    client.UseTls(certificate!, o =>
                    {
                        o.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
                        o.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
                        if (tls == GatewayTls.ClusterMember) o.RemoteCertificateValidation = new ClusterPeerValidator(certificate!, []).Validate;
                        else o.AllowAnyRemoteCertificate();
                        o.HandshakeTimeout = TimeSpan.FromSeconds(5);
                    });
                    break;
            }
        });
        using var host = builder.Build();
        using var cts = new CancellationTokenSource(bound);
        var stage = "connect";
        try
        {
            await host.StartAsync(cts.Token).WaitAsync(cts.Token);
            stage = "grain call";
            var account = host.Services.GetRequiredService<IClusterClient>().GetGrain<IRewardAccountGrain>("0x" + new string('0', 40));
            await account.GetAsync().WaitAsync(cts.Token);
            return null;
        }
        catch (Exception ex)
        {
            var what = ex is OperationCanceledException && cts.IsCancellationRequested ? $"nothing within {bound.TotalSeconds:0} s" : $"{ex.GetType().Name}: {ex.Message.Split('\n')[0]}";
            return $"{stage} failed: {what}";
        }
        finally
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try { await host.StopAsync(stop.Token); } catch (Exception) { /* a client that never connected may not stop cleanly */ }
        }
    }
}
