using System.Net;
using Microsoft.AspNetCore.HttpOverrides;

namespace DePin.Silo.Api;

/// <summary>
/// X-Forwarded-For / X-Forwarded-Proto are honoured only from the proxies listed in <c>Api:KnownProxies</c>
/// (comma-separated IP addresses or CIDR networks, e.g. <c>10.0.0.5,10.1.0.0/16</c>); with none listed they are
/// ignored, so a client cannot choose the address its per-IP limit is counted under.
/// </summary>
public static class ApiForwardedHeaders
{
    /// <summary>Configures <see cref="ForwardedHeadersOptions"/>; start-up fails with a message naming the setting on a bad entry.</summary>
    public static IServiceCollection AddApiForwardedHeaders(this IServiceCollection services, IConfiguration configuration)
    {
        var entries = (configuration["Api:KnownProxies"] ?? "")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var proxies = new List<IPAddress>();
        var networks = new List<System.Net.IPNetwork>();
        foreach (var entry in entries)
        {
            if (entry.Contains('/') && System.Net.IPNetwork.TryParse(entry, out var network)) networks.Add(network);
            else if (IPAddress.TryParse(entry, out var address)) proxies.Add(address);
            else throw new InvalidOperationException($"Api:KnownProxies: '{entry}' is neither an IP address nor a CIDR network");
        }
        services.Configure<ForwardedHeadersOptions>(o =>
        {
            // Empty known lists would make the middleware trust every sender, so with none configured nothing is forwarded;
            // the defaults (loopback) are replaced by what is configured.
            o.ForwardedHeaders = proxies.Count + networks.Count == 0
                ? ForwardedHeaders.None
                : ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            o.KnownProxies.Clear();
            o.KnownIPNetworks.Clear();
            foreach (var p in proxies) o.KnownProxies.Add(p);
            foreach (var n in networks) o.KnownIPNetworks.Add(n);
        });
        return services;
    }
}
